import os.path as osp

from setuptools import find_packages, setup


def read_version():
    scope = {}
    with open(osp.join('dctkd_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='dctkd_mm',
    version=read_version(),
    description='DCT-driven attention knowledge distillation for scene '
    'recognition, as an MMRazor/MMPretrain plugin',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['dctkd_mm', 'dctkd_mm.*']),
    python_requires='>=3.8',
    # mmcv (full or lite, 2.0.x-2.1.x) is deliberately not listed: pip
    # cannot express "mmcv or mmcv-lite", and listing either would clobber
    # the other. Without it `import dctkd_mm` stops at once naming the fix
    # (dctkd_mm/compat/dependencies.py); `pip install -e ".[mmcv-lite]"`
    # or requirements.txt installs mmcv-lite on a fresh machine.
    install_requires=[
        'torch>=1.13', 'torchvision', 'mmengine>=0.10,<0.11',
        'mmpretrain>=1.2,<1.3', 'mmrazor==1.0.0', 'joblib', 'ordered-set',
        'setuptools<81', 'numpy', 'scipy', 'matplotlib',
        # the TensorBoard switch (docs/training.md, "TensorBoard")
        'tensorboard'
    ],
    extras_require={
        'mmcv-lite': ['mmcv-lite>=2.0.0,<=2.1.0'],
        'tests': ['pytest'],
    },
    license='Apache License 2.0',
)
