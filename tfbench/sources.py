"""Where the built-in suites' claims come from, spelled as a reader can look them up (docs/design.md §11):
a paper as "authors year, title", a source article by its title, original and English. The articles
have no stable address, so their title is all there is to cite; never a file name, which means nothing
outside this repository. Where a claim is also in the literature the paper comes first.
"""

from __future__ import annotations


def article(original: str, english: str) -> str:
    return f"article: {original} ({english})"


def cite(*sources: str) -> str:
    """Several sources of one claim, paper first."""
    return "; ".join(sources)


# The five source articles (Chinese-language, on vanishing and exploding gradients).
STABILITY_OF_THE_LOSS = article(
    "损失函数的稳定性: 避免梯度消失和梯度爆炸", "Stability of the loss: avoiding vanishing and exploding gradients"
)
GRADIENTS_IN_CNNS = article(
    "卷积神经网络梯度消失,神经网络中梯度的概念",
    "Vanishing gradients in convolutional networks; the concept of the gradient",
)
STUDY_NOTES = article("梯度消失&梯度爆炸", "Vanishing & exploding gradients (study notes)")
CAUSES = article("梯度爆炸与梯度消失的原因", "Causes of exploding and vanishing gradients")
ROBUSTNESS = "article, untitled, on 梯度爆炸与模型鲁棒性 (exploding gradients and model robustness)"
ARTICLES = (STABILITY_OF_THE_LOSS, GRADIENTS_IN_CNNS, STUDY_NOTES, CAUSES, ROBUSTNESS)

# Papers: authors year, title.
BENGIO_1994 = "Bengio, Simard & Frasconi 1994, Learning long-term dependencies with gradient descent is difficult"
HOCHREITER_1997 = "Hochreiter & Schmidhuber 1997, Long short-term memory"
LECUN_1998 = "LeCun, Bottou, Orr & Müller 1998, Efficient BackProp"
KROGH_1992 = "Krogh & Hertz 1992, A simple weight decay can improve generalization"
HINTON_2006 = "Hinton, Osindero & Teh 2006, A fast learning algorithm for deep belief nets"
BENGIO_2007 = "Bengio, Lamblin, Popovici & Larochelle 2007, Greedy layer-wise training of deep networks"
GLOROT_2010 = "Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks"
GLOROT_2011 = "Glorot, Bordes & Bengio 2011, Deep sparse rectifier neural networks"
DUCHI_2011 = "Duchi, Hazan & Singer 2011, Adaptive subgradient methods for online learning and stochastic optimization"
TIELEMAN_2012 = (
    "Tieleman & Hinton 2012, Lecture 6.5 — RMSprop: divide the gradient by a running average of its recent magnitude"
)
PASCANU_2013 = "Pascanu, Mikolov & Bengio 2013, On the difficulty of training recurrent neural networks"
CHO_2014 = (
    "Cho et al. 2014, Learning phrase representations using RNN encoder-decoder for statistical machine translation"
)
CHUNG_2014 = (
    "Chung, Gulcehre, Cho & Bengio 2014, Empirical evaluation of gated recurrent neural networks on sequence modeling"
)
SRIVASTAVA_2014 = "Srivastava et al. 2014, Dropout: a simple way to prevent neural networks from overfitting"
HE_2015 = "He, Zhang, Ren & Sun 2015, Delving deep into rectifiers: surpassing human-level performance on ImageNet"
IOFFE_2015 = (
    "Ioffe & Szegedy 2015, Batch normalization: accelerating deep network training by reducing internal covariate shift"
)
KINGMA_2015 = "Kingma & Ba 2015, Adam: a method for stochastic optimization"
CLEVERT_2016 = (
    "Clevert, Unterthiner & Hochreiter 2016, Fast and accurate deep network learning by exponential linear units"
)
HE_2016 = "He, Zhang, Ren & Sun 2016, Deep residual learning for image recognition"
