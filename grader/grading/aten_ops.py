"""Which ATen operations the grader runs when it rebuilds an exported graph.

An operation is allowed if PyTorch tags it pointwise (element-wise arithmetic, comparisons and
math functions: nothing that reads files, allocates by an argument or touches storage) or if
its name is listed below: what correct student code for this kit's exercises plausibly runs.
Anything else (reading files, storage surgery, sparse and quantized kernels, ...) is refused.
"""

from __future__ import annotations

from functools import cache

import torch

LISTED = frozenset("""
    alias clone contiguous detach lift_fresh_copy _to_copy to copy copy_ _unsafe_view view view_as reshape
    _reshape_alias as_strided as_strided_ t transpose transpose_ permute expand expand_as squeeze squeeze_ unsqueeze
    unsqueeze_ flatten unflatten unfold select slice narrow split split_with_sizes unbind chunk diagonal movedim
    broadcast_tensors cat stack hstack vstack flip roll repeat tile repeat_interleave
    empty empty_like empty_strided new_empty new_empty_strided zeros zeros_like new_zeros ones ones_like new_ones
    full full_like new_full fill fill_ zero_ arange linspace eye scalar_tensor one_hot
    rand rand_like randn randn_like randint randint_like bernoulli bernoulli_ uniform uniform_ normal normal_ randperm
    multinomial
    index index_put index_put_ _index_put_impl_ index_select index_add index_add_ index_copy index_fill gather scatter
    scatter_ scatter_add scatter_add_ scatter_reduce masked_fill masked_fill_ masked_select masked_scatter where
    nonzero take take_along_dim select_scatter slice_scatter diagonal_scatter
    sum mean amax amin max min argmax argmin var std var_mean std_mean prod cumsum cumprod logsumexp norm
    linalg_vector_norm frobenius_norm any all count_nonzero sort topk kthvalue median mode aminmax bincount
    mm bmm addmm addmv addbmm baddbmm mv dot vdot matmul einsum tensordot linear outer ger
    convolution _convolution conv2d conv1d conv3d conv_transpose2d cudnn_convolution mkldnn_convolution
    _slow_conv2d_forward thnn_conv2d slow_conv_dilated2d _conv_depthwise2d convolution_overrideable
    max_pool2d max_pool2d_with_indices max_pool1d max_pool1d_with_indices max_pool3d max_pool3d_with_indices
    adaptive_max_pool2d adaptive_max_pool1d fractional_max_pool2d avg_pool2d avg_pool1d avg_pool3d
    adaptive_avg_pool2d adaptive_avg_pool1d _adaptive_avg_pool2d mean_dim
    batch_norm native_batch_norm _native_batch_norm_legit _native_batch_norm_legit_no_training
    _native_batch_norm_legit_functional cudnn_batch_norm instance_norm layer_norm native_layer_norm group_norm
    native_group_norm
    dropout native_dropout feature_dropout alpha_dropout feature_alpha_dropout _fused_dropout
    relu relu_ relu6 leaky_relu leaky_relu_ elu elu_ selu celu gelu silu silu_ mish hardtanh hardtanh_ hardsigmoid
    hardswish threshold threshold_ softplus softshrink hardshrink prelu _prelu_kernel glu log_sigmoid_forward
    sigmoid sigmoid_ tanh tanh_ softmax _softmax log_softmax _log_softmax
    mse_loss l1_loss smooth_l1_loss huber_loss nll_loss nll_loss_forward nll_loss2d_forward nll_loss_nd
    cross_entropy_loss binary_cross_entropy binary_cross_entropy_with_logits kl_div
    constant_pad_nd pad reflection_pad1d reflection_pad2d replication_pad1d replication_pad2d im2col col2im
    upsample_nearest2d upsample_bilinear2d pixel_shuffle pixel_unshuffle channel_shuffle
    clamp clamp_ clamp_min clamp_min_ clamp_max clamp_max_ clip abs abs_ neg neg_ sign exp exp_ log log_ sqrt sqrt_
    rsqrt pow pow_ square reciprocal add add_ sub sub_ rsub mul mul_ div div_ true_divide floor_divide addcmul
    addcdiv lerp maximum minimum fmax fmin
""".split())

# Operations whose output is never larger than their inputs: the only ones allowed to run when the
# meta device cannot predict their size (a boolean mask's selection, for one).
BOUNDED = frozenset("index masked_select nonzero unique _unique2 bincount take".split())


@cache
def resolve(name: str) -> torch._ops.OpOverload | None:
    """The ATen operation called `name` ("aten.<op>.<overload>"), if the grader allows it."""
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "aten":
        return None
    packet = getattr(torch.ops.aten, parts[1], None)
    if not isinstance(packet, torch._ops.OpOverloadPacket) or parts[2] not in packet.overloads():
        return None
    op = getattr(packet, parts[2])
    if parts[1] in LISTED or torch.Tag.pointwise in op.tags:
        return op
    return None


def bounded_by_inputs(name: str) -> bool:
    """Whether `name`'s output is never larger than its inputs."""
    parts = name.split(".")
    return len(parts) == 3 and parts[1] in BOUNDED


@cache
def makes_tensors(name: str) -> bool:
    """Whether the operation takes a `device` argument (a factory such as aten.zeros or aten.arange)."""
    op = resolve(name)
    return op is not None and any(argument.name == "device" for argument in op._schema.arguments)
