import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

#: Where the package carries ``configs/`` (dctkd_mm/packaged_configs.py).
PACKAGED_CONFIGS = osp.join('dctkd_mm', '.mim', 'configs')


def read_version():
    scope = {}
    with open(osp.join('dctkd_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def carry_configs():
    """Put ``configs/`` inside the package, as MMPretrain's setup.py puts
    it in ``mmpretrain/.mim``: a symlink for an editable install (edits
    show at once), a copy when a wheel or an sdist is built."""
    if {'develop', 'editable_wheel'} & set(sys.argv):
        mode = 'link'
    elif {'bdist_wheel', 'sdist', 'build', 'build_py'} & set(sys.argv):
        mode = 'copy'
    else:
        return  # metadata queries: nothing is built
    root = osp.dirname(osp.abspath(__file__))
    source = osp.join(root, 'configs')
    target = osp.join(root, PACKAGED_CONFIGS)
    if osp.islink(target) or osp.isfile(target):
        os.remove(target)
    elif osp.isdir(target):
        shutil.rmtree(target)
    os.makedirs(osp.dirname(target), exist_ok=True)
    if mode == 'link':
        os.symlink(osp.relpath(source, osp.dirname(target)), target)
    else:
        shutil.copytree(source, target,
                        ignore=shutil.ignore_patterns('__pycache__'))


carry_configs()
setup(
    name='dctkd_mm',
    version=read_version(),
    description='DCT-driven attention knowledge distillation for scene '
    'recognition, as an MMRazor/MMPretrain plugin',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['dctkd_mm', 'dctkd_mm.*']),
    package_data={'dctkd_mm': ['.mim/configs/**/*']},
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
