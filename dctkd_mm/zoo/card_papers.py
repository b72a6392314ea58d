"""The papers the zoo's model cards cite: title, authors, venue and the
BibTeX entry of each (:mod:`dctkd_mm.zoo.model_cards`)."""
from typing import NamedTuple


class Paper(NamedTuple):
    title: str
    authors: str
    venue: str
    year: int
    url: str
    bibtex: str


DCT_PAPER = Paper(
    'Attention-based Knowledge Distillation in Multi-attention Tasks: The '
    'Impact of a DCT-driven Loss',
    'Alejandro López-Cifuentes, Marcos Escudero-Viñolo, Jesús Bescós and '
    'Juan C. SanMiguel', 'IEEE TCSVT', 2022,
    'https://arxiv.org/abs/2205.01997',
    '@article{lopezcifuentes2022attention,\n'
    '  title={Attention-based Knowledge Distillation in Multi-attention '
    'Tasks: The Impact of a DCT-driven Loss},\n'
    '  author={L{\\\'o}pez-Cifuentes, Alejandro and Escudero-Vi{\\~n}olo, '
    'Marcos and Besc{\\\'o}s, Jes{\\\'u}s and SanMiguel, Juan C.},\n'
    '  journal={IEEE Transactions on Circuits and Systems for Video '
    'Technology},\n'
    '  year={2022}\n'
    '}')
AT_PAPER = Paper(
    'Paying More Attention to Attention: Improving the Performance of '
    'Convolutional Neural Networks via Attention Transfer',
    'Sergey Zagoruyko and Nikos Komodakis', 'ICLR', 2017,
    'https://arxiv.org/abs/1612.03928',
    '@inproceedings{zagoruyko2017paying,\n'
    '  title={Paying More Attention to Attention: Improving the Performance '
    'of Convolutional Neural Networks via Attention Transfer},\n'
    '  author={Zagoruyko, Sergey and Komodakis, Nikos},\n'
    '  booktitle={International Conference on Learning Representations '
    '(ICLR)},\n'
    '  year={2017}\n'
    '}')
KD_PAPER = Paper(
    'Distilling the Knowledge in a Neural Network',
    'Geoffrey Hinton, Oriol Vinyals and Jeff Dean', 'arXiv', 2015,
    'https://arxiv.org/abs/1503.02531',
    '@article{hinton2015distilling,\n'
    '  title={Distilling the Knowledge in a Neural Network},\n'
    '  author={Hinton, Geoffrey and Vinyals, Oriol and Dean, Jeff},\n'
    '  journal={arXiv preprint arXiv:1503.02531},\n'
    '  year={2015}\n'
    '}')
PKT_PAPER = Paper(
    'Learning Deep Representations with Probabilistic Knowledge Transfer',
    'Nikolaos Passalis and Anastasios Tefas', 'ECCV', 2018,
    'https://arxiv.org/abs/1803.10837',
    '@inproceedings{passalis2018learning,\n'
    '  title={Learning Deep Representations with Probabilistic Knowledge '
    'Transfer},\n'
    '  author={Passalis, Nikolaos and Tefas, Anastasios},\n'
    '  booktitle={European Conference on Computer Vision (ECCV)},\n'
    '  year={2018}\n'
    '}')
VID_PAPER = Paper(
    'Variational Information Distillation for Knowledge Transfer',
    'Sungsoo Ahn, Shell Xu Hu, Andreas Damianou, Neil D. Lawrence and '
    'Zhenwen Dai', 'CVPR', 2019, 'https://arxiv.org/abs/1904.05835',
    '@inproceedings{ahn2019variational,\n'
    '  title={Variational Information Distillation for Knowledge '
    'Transfer},\n'
    '  author={Ahn, Sungsoo and Hu, Shell Xu and Damianou, Andreas and '
    'Lawrence, Neil D. and Dai, Zhenwen},\n'
    '  booktitle={IEEE Conference on Computer Vision and Pattern '
    'Recognition (CVPR)},\n'
    '  year={2019}\n'
    '}')
CRD_PAPER = Paper(
    'Contrastive Representation Distillation',
    'Yonglong Tian, Dilip Krishnan and Phillip Isola', 'ICLR', 2020,
    'https://arxiv.org/abs/1910.10699',
    '@inproceedings{tian2020contrastive,\n'
    '  title={Contrastive Representation Distillation},\n'
    '  author={Tian, Yonglong and Krishnan, Dilip and Isola, Phillip},\n'
    '  booktitle={International Conference on Learning Representations '
    '(ICLR)},\n'
    '  year={2020}\n'
    '}')
SEMCKD_PAPER = Paper(
    'Cross-Layer Distillation with Semantic Calibration',
    'Defang Chen, Jian-Ping Mei, Yuan Zhang, Can Wang, Zhe Wang, Yan Feng '
    'and Chun Chen', 'AAAI', 2021, 'https://arxiv.org/abs/2012.03236',
    '@inproceedings{chen2021cross,\n'
    '  title={Cross-Layer Distillation with Semantic Calibration},\n'
    '  author={Chen, Defang and Mei, Jian-Ping and Zhang, Yuan and Wang, '
    'Can and Wang, Zhe and Feng, Yan and Chen, Chun},\n'
    '  booktitle={AAAI Conference on Artificial Intelligence},\n'
    '  year={2021}\n'
    '}')
RESNET_PAPER = Paper(
    'Deep Residual Learning for Image Recognition',
    'Kaiming He, Xiangyu Zhang, Shaoqing Ren and Jian Sun', 'CVPR', 2016,
    'https://arxiv.org/abs/1512.03385',
    '@inproceedings{he2016deep,\n'
    '  title={Deep Residual Learning for Image Recognition},\n'
    '  author={He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, '
    'Jian},\n'
    '  booktitle={IEEE Conference on Computer Vision and Pattern '
    'Recognition (CVPR)},\n'
    '  year={2016}\n'
    '}')
MOBILENET_V2_PAPER = Paper(
    'MobileNetV2: Inverted Residuals and Linear Bottlenecks',
    'Mark Sandler, Andrew Howard, Menglong Zhu, Andrey Zhmoginov and '
    'Liang-Chieh Chen', 'CVPR', 2018, 'https://arxiv.org/abs/1801.04381',
    '@inproceedings{sandler2018mobilenetv2,\n'
    '  title={MobileNetV2: Inverted Residuals and Linear Bottlenecks},\n'
    '  author={Sandler, Mark and Howard, Andrew and Zhu, Menglong and '
    'Zhmoginov, Andrey and Chen, Liang-Chieh},\n'
    '  booktitle={IEEE Conference on Computer Vision and Pattern '
    'Recognition (CVPR)},\n'
    '  year={2018}\n'
    '}')
