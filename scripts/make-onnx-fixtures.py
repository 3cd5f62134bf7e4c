"""Writes the ONNX models of test/fixtures/onnx/ (and summary.json: what the onnx package reads in each,
for the codec's test), which the webgpu-instancenorm/onnxruntime tests load.

Run with Debian's python3-torch (1.13) and python3-onnx (1.12):

    /usr/bin/python3 scripts/make-onnx-fixtures.py

The weights are drawn from seeded generators here, and the graphs are what torch.onnx.export emits
for the PyTorch modules below (or, for the few graphs PyTorch does not emit, what onnx.helper
builds): nothing comes from the code under test. The tests and CI read the committed .onnx files
and never need Python.

  transformer-net.onnx        PyTorch's fast-neural-style TransformerNet (examples/fast_neural_style),
                              widths 4, 8, 8 (for 32, 64, 128): reflection-padded convs,
                              InstanceNorm2d(affine=True) + ReLU, five residual blocks, nearest-upsample
                              convs. Opset 11, N, H and W dynamic.
  diffusion-block.onnx        A diffusion U-Net ResNet block: GroupNorm(32, 64) + SiLU, a 3x3 conv,
                              GroupNorm(32, 64) + SiLU, the block's input added. Opset 17, decomposed
                              GroupNorm as torch.onnx emits it.
  diffusion-block-fp16.onnx   The same block in float16 (torch 1.13 cannot run half convs on the CPU:
                              exported in float32 and converted here with the onnx package).
  no-normalization.onnx       Conv, ReLU, conv: nothing for the library.
  instance-norm-1d.onnx       Conv1d, InstanceNorm1d(affine=True), LeakyReLU(0.2), conv1d: a rank-3
                              InstanceNormalization input.
  instance-norm-relu.onnx     InstanceNormalization(affine) + ReLU on the graph input alone: no node left
                              to ORT.
  contrib-group-norm.onnx     com.microsoft.GroupNorm (channels_last, SiLU, 4 groups) then Relu.
  scale-from-input.onnx       InstanceNormalization whose scale is a graph input, not a constant.
  rank-6.onnx                 InstanceNormalization of a rank-6 tensor (4 spatial dimensions).
  residual-input.onnx         InstanceNormalization + Add of a graph input of free shape (a broadcast at
                              run time is possible).
  group-norm-near-miss.onnx   The decomposed GroupNorm chain with InstanceNormalization's scale 2, not 1.
  instance-norm-relu-fp16.onnx  instance-norm-relu in float16.
  unknown-op.onnx             Conv, InstanceNormalization, then an op no runtime has (com.example.NoSuchOp).
  float16-handoff.onnx        float16: Reshape [N, 48] → [N, 3, 4, 4], InstanceNormalization + Relu, Reshape back:
                              tensors handed between ORT and the library on the GPU in halves, through ops
                              ORT's WebGPU EP runs without shader-f16 (Reshape copies, compiles no kernel).
  external-data.onnx          instance-norm-1d with every initializer in external-data.bin (ONNX's external
                              data: ORT reads it where the app passes it as sessionOptions.externalData).
"""

import io
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'onnx')


# PyTorch's examples/fast_neural_style/neural_style/transformer_net.py, with the widths a parameter.
class ConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        if self.upsample:
            x = torch.nn.functional.interpolate(x, mode='nearest', scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(torch.nn.Module):
    def __init__(self, widths=(32, 64, 128)):
        super().__init__()
        a, b, c = widths
        self.conv1 = ConvLayer(3, a, kernel_size=9, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(a, affine=True)
        self.conv2 = ConvLayer(a, b, kernel_size=3, stride=2)
        self.in2 = torch.nn.InstanceNorm2d(b, affine=True)
        self.conv3 = ConvLayer(b, c, kernel_size=3, stride=2)
        self.in3 = torch.nn.InstanceNorm2d(c, affine=True)
        self.res1 = ResidualBlock(c)
        self.res2 = ResidualBlock(c)
        self.res3 = ResidualBlock(c)
        self.res4 = ResidualBlock(c)
        self.res5 = ResidualBlock(c)
        self.deconv1 = UpsampleConvLayer(c, b, kernel_size=3, stride=1, upsample=2)
        self.in4 = torch.nn.InstanceNorm2d(b, affine=True)
        self.deconv2 = UpsampleConvLayer(b, a, kernel_size=3, stride=1, upsample=2)
        self.in5 = torch.nn.InstanceNorm2d(a, affine=True)
        self.deconv3 = ConvLayer(a, 3, kernel_size=9, stride=1)
        self.relu = torch.nn.ReLU()

    def forward(self, X):
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res5(self.res4(self.res3(self.res2(self.res1(y)))))
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


class DiffusionResnetBlock(torch.nn.Module):
    """The core of diffusers' ResnetBlock2D without the time embedding: norm, SiLU, conv, norm, SiLU, + input."""

    def __init__(self, channels=64, groups=32):
        super().__init__()
        self.norm1 = torch.nn.GroupNorm(groups, channels, eps=1e-5)
        self.conv1 = torch.nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = torch.nn.GroupNorm(groups, channels, eps=1e-5)

    def forward(self, x):
        h = torch.nn.functional.silu(self.norm1(x))
        h = torch.nn.functional.silu(self.norm2(self.conv1(h)))
        return x + h


class NoNormalization(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 3, 3, padding=1)

    def forward(self, x):
        return self.conv2(torch.relu(self.conv1(x)))


class InstanceNorm1dNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv1d(4, 8, 3, padding=1)
        self.norm = torch.nn.InstanceNorm1d(8, affine=True, eps=1e-3)
        self.act = torch.nn.LeakyReLU(0.2)
        self.conv2 = torch.nn.Conv1d(8, 4, 1)

    def forward(self, x):
        return self.conv2(self.act(self.norm(self.conv1(x))))


class InstanceNormRelu(torch.nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.norm = torch.nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x):
        return torch.relu(self.norm(x))


def seed_weights(module, seed):
    """Every parameter drawn from a seeded generator: conv weights scaled by fan-in, norms' γ in
    [0.5, 1.5] and β in [-0.5, 0.5] (so that neither is the identity a default init would give)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            leaf = name.split('.')[-1]
            owner = module.get_submodule(name.rsplit('.', 1)[0]) if '.' in name else module
            is_norm = isinstance(owner, (torch.nn.InstanceNorm1d, torch.nn.InstanceNorm2d, torch.nn.GroupNorm))
            uniform = torch.rand(parameter.shape, generator=generator)
            if is_norm and leaf == 'weight':
                parameter.copy_(0.5 + uniform)
            elif is_norm or leaf == 'bias':
                parameter.copy_(uniform - 0.5)
            else:
                fan_in = parameter[0].numel()
                parameter.copy_((2 * uniform - 1) * (3 / fan_in) ** 0.5)
    return module.eval()


def export(module, example, opset, dynamic_axes, input_name='input', output_name='output'):
    buffer = io.BytesIO()
    torch.onnx.export(
        module,
        example,
        buffer,
        opset_version=opset,
        input_names=[input_name],
        output_names=[output_name],
        dynamic_axes=dynamic_axes,
    )
    model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(model)
    return model


def to_float16(model):
    """Float32 → float16 everywhere a value is float32: initializers, Constant nodes' values, the graph's
    inputs, outputs and value infos. Integer tensors (Reshape's shapes) stay as they are."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    for index, tensor in enumerate(graph.initializer):
        if tensor.data_type == TensorProto.FLOAT:
            half = numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), tensor.name)
            graph.initializer[index].CopyFrom(half)
    for node in graph.node:
        if node.op_type == 'Cast':
            raise ValueError('a Cast node: not expected in these models')
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == TensorProto.FLOAT:
                attribute.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attribute.t).astype(np.float16)))
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.checker.check_model(model)
    return model


def seeded(shape, seed, low=-1.0, high=1.0):
    return (low + (high - low) * np.random.default_rng(seed).random(shape)).astype(np.float32)


def tensor_input(name, elem_type, dims):
    return helper.make_tensor_value_info(name, elem_type, dims)


def helper_model(nodes, inputs, outputs, initializers, opsets):
    graph = helper.make_graph(nodes, 'fixture', inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets], producer_name='make-onnx-fixtures')
    model.ir_version = 8
    return model


def contrib_group_norm():
    # X [N, H, W, C] (channels_last) → com.microsoft.GroupNorm(groups 4, SiLU) → Relu.
    gamma = numpy_helper.from_array(seeded([8], 601, 0.5, 1.5), 'gamma')
    beta = numpy_helper.from_array(seeded([8], 602, -0.5, 0.5), 'beta')
    nodes = [
        helper.make_node(
            'GroupNorm', ['input', 'gamma', 'beta'], ['normalized'], name='group_norm', domain='com.microsoft',
            activation=1, channels_last=1, epsilon=1e-5, groups=4,
        ),
        helper.make_node('Relu', ['normalized'], ['output'], name='relu'),
    ]
    return helper_model(
        nodes,
        [tensor_input('input', TensorProto.FLOAT, ['N', 'H', 'W', 8])],
        [tensor_input('output', TensorProto.FLOAT, ['N', 'H', 'W', 8])],
        [gamma, beta],
        [('', 17), ('com.microsoft', 1)],
    )


def scale_from_input():
    bias = numpy_helper.from_array(seeded([4], 701, -0.5, 0.5), 'B')
    nodes = [
        helper.make_node('InstanceNormalization', ['input', 'scale', 'B'], ['normalized'], name='norm', epsilon=1e-5),
        helper.make_node('Relu', ['normalized'], ['output'], name='relu'),
    ]
    return helper_model(
        nodes,
        [tensor_input('input', TensorProto.FLOAT, [1, 4, 6, 6]), tensor_input('scale', TensorProto.FLOAT, [4])],
        [tensor_input('output', TensorProto.FLOAT, [1, 4, 6, 6])],
        [bias],
        [('', 17)],
    )


def rank_6():
    scale = numpy_helper.from_array(seeded([2], 801, 0.5, 1.5), 'scale')
    bias = numpy_helper.from_array(seeded([2], 802, -0.5, 0.5), 'B')
    nodes = [helper.make_node('InstanceNormalization', ['input', 'scale', 'B'], ['output'], name='norm', epsilon=1e-5)]
    dims = [1, 2, 2, 3, 2, 3]
    return helper_model(
        nodes,
        [tensor_input('input', TensorProto.FLOAT, dims)],
        [tensor_input('output', TensorProto.FLOAT, dims)],
        [scale, bias],
        [('', 17)],
    )


def residual_input():
    # The residual's shape is free: fed [1, 4, 5, 5] it is a residual, fed [1, 4, 1, 1] a broadcast.
    scale = numpy_helper.from_array(seeded([4], 901, 0.5, 1.5), 'scale')
    bias = numpy_helper.from_array(seeded([4], 902, -0.5, 0.5), 'B')
    weight = numpy_helper.from_array(seeded([4, 4, 1, 1], 903), 'weight')
    nodes = [
        helper.make_node('Conv', ['input', 'weight'], ['features'], name='conv'),
        helper.make_node('InstanceNormalization', ['features', 'scale', 'B'], ['normalized'], name='norm', epsilon=1e-5),
        helper.make_node('Add', ['normalized', 'residual'], ['summed'], name='add'),
        helper.make_node('Relu', ['summed'], ['output'], name='relu'),
    ]
    return helper_model(
        nodes,
        [tensor_input('input', TensorProto.FLOAT, [1, 4, 5, 5]), tensor_input('residual', TensorProto.FLOAT, ['a', 'b', 'c', 'd'])],
        [tensor_input('output', TensorProto.FLOAT, [1, 4, 5, 5])],
        [scale, bias, weight],
        [('', 17)],
    )


def group_norm_near_miss():
    # torch's decomposed GroupNorm(2, 4), but InstanceNormalization's scale is 2 (not 1): not a GroupNorm.
    shape = numpy_helper.from_array(np.array([0, 2, -1], dtype=np.int64), 'group_shape')
    ones = numpy_helper.from_array(np.full([2], 2.0, dtype=np.float32), 'group_scale')
    zeros = numpy_helper.from_array(np.zeros([2], dtype=np.float32), 'group_bias')
    gamma = numpy_helper.from_array(seeded([4, 1, 1], 1001, 0.5, 1.5), 'gamma')
    beta = numpy_helper.from_array(seeded([4, 1, 1], 1002, -0.5, 0.5), 'beta')
    nodes = [
        helper.make_node('Reshape', ['input', 'group_shape'], ['grouped'], name='reshape'),
        helper.make_node('InstanceNormalization', ['grouped', 'group_scale', 'group_bias'], ['normalized'], name='norm', epsilon=1e-5),
        helper.make_node('Shape', ['input'], ['input_shape'], name='shape'),
        helper.make_node('Reshape', ['normalized', 'input_shape'], ['ungrouped'], name='reshape_back'),
        helper.make_node('Mul', ['ungrouped', 'gamma'], ['scaled'], name='mul'),
        helper.make_node('Add', ['scaled', 'beta'], ['output'], name='add'),
    ]
    return helper_model(
        nodes,
        [tensor_input('input', TensorProto.FLOAT, [1, 4, 3, 3])],
        [tensor_input('output', TensorProto.FLOAT, [1, 4, 3, 3])],
        [shape, ones, zeros, gamma, beta],
        [('', 17)],
    )


def summary(model):
    """What the onnx package reads in a model, for the codec's test to compare its own reading with."""

    def value_info(value):
        tensor_type = value.type.tensor_type
        dims = [d.dim_value if d.HasField('dim_value') else d.dim_param if d.HasField('dim_param') else None for d in tensor_type.shape.dim]
        return {'name': value.name, 'elemType': tensor_type.elem_type, 'dims': dims}

    def attribute(a):
        value = helper.get_attribute_value(a)
        if isinstance(value, onnx.TensorProto):
            value = {'dims': list(value.dims), 'dataType': value.data_type, 'sum': float(numpy_helper.to_array(value).astype(np.float64).sum())}
        elif isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, list):
            value = [float(v) if isinstance(v, float) else v for v in value]
        return {'name': a.name, 'type': a.type, 'value': value}

    graph = model.graph
    return {
        'irVersion': model.ir_version,
        'opsetImports': [{'domain': o.domain, 'version': o.version} for o in model.opset_import],
        'inputs': [value_info(v) for v in graph.input],
        'outputs': [value_info(v) for v in graph.output],
        'nodes': [
            {'name': n.name, 'opType': n.op_type, 'domain': n.domain, 'inputs': list(n.input), 'outputs': list(n.output),
             'attributes': [attribute(a) for a in n.attribute]}
            for n in graph.node
        ],
        'initializers': [
            {'name': t.name, 'dims': list(t.dims), 'dataType': t.data_type, 'sum': float(numpy_helper.to_array(t).astype(np.float64).sum()),
             **({'values': numpy_helper.to_array(t).astype(np.float64).ravel().tolist()} if numpy_helper.to_array(t).size <= 64 else {})}
            for t in graph.initializer
        ],
    }


def write_summary(models):
    import json

    with open(os.path.join(OUT, 'summary.json'), 'w') as file:
        json.dump({name: summary(model) for name, model in sorted(models.items())}, file, separators=(',', ':'))


def unknown_op():
    weight = numpy_helper.from_array(seeded([4, 4, 1, 1], 1101), 'weight')
    scale = numpy_helper.from_array(seeded([4], 1102, 0.5, 1.5), 'scale')
    bias = numpy_helper.from_array(seeded([4], 1103, -0.5, 0.5), 'B')
    nodes = [
        helper.make_node('Conv', ['input', 'weight'], ['features'], name='conv'),
        helper.make_node('InstanceNormalization', ['features', 'scale', 'B'], ['normalized'], name='norm', epsilon=1e-5),
        helper.make_node('NoSuchOp', ['normalized'], ['output'], name='unknown', domain='com.example'),
    ]
    return helper_model(
        nodes,
        [tensor_input('input', TensorProto.FLOAT, [1, 4, 5, 5])],
        [tensor_input('output', TensorProto.FLOAT, [1, 4, 5, 5])],
        [weight, scale, bias],
        [('', 17), ('com.example', 1)],
    )


def float16_handoff():
    F16 = TensorProto.FLOAT16
    scale = numpy_helper.from_array(seeded([3], 1201, 0.5, 1.5).astype(np.float16), 'scale')
    bias = numpy_helper.from_array(seeded([3], 1202, -0.5, 0.5).astype(np.float16), 'B')
    image = numpy_helper.from_array(np.array([0, 3, 4, 4], dtype=np.int64), 'image_shape')
    flat = numpy_helper.from_array(np.array([0, -1], dtype=np.int64), 'flat_shape')
    nodes = [
        helper.make_node('Reshape', ['input', 'image_shape'], ['image'], name='to_image'),
        helper.make_node('InstanceNormalization', ['image', 'scale', 'B'], ['normalized'], name='norm', epsilon=1e-5),
        helper.make_node('Relu', ['normalized'], ['activated'], name='relu'),
        helper.make_node('Reshape', ['activated', 'flat_shape'], ['output'], name='to_flat'),
    ]
    return helper_model(
        nodes,
        [tensor_input('input', F16, ['N', 48])],
        [tensor_input('output', F16, ['N', 48])],
        [scale, bias, image, flat],
        [('', 17)],
    )


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    image_axes = {0: 'N', 2: 'H', 3: 'W'}
    models = {
        'transformer-net': export(
            seed_weights(TransformerNet((4, 8, 8)), 101), torch.rand(1, 3, 16, 16), 11,
            {'input': image_axes, 'output': image_axes},
        ),
        'diffusion-block': export(
            seed_weights(DiffusionResnetBlock(), 201), torch.rand(1, 64, 8, 8), 17,
            {'input': image_axes, 'output': image_axes},
        ),
        'no-normalization': export(
            seed_weights(NoNormalization(), 301), torch.rand(1, 3, 8, 8), 13, {'input': image_axes, 'output': image_axes},
        ),
        'instance-norm-1d': export(
            seed_weights(InstanceNorm1dNet(), 401), torch.rand(1, 4, 16), 13,
            {'input': {0: 'N', 2: 'L'}, 'output': {0: 'N', 2: 'L'}},
        ),
        'instance-norm-relu': export(
            seed_weights(InstanceNormRelu(), 501), torch.rand(2, 4, 8, 8), 13, {'input': image_axes, 'output': image_axes},
        ),
        'contrib-group-norm': contrib_group_norm(),
        'scale-from-input': scale_from_input(),
        'rank-6': rank_6(),
        'residual-input': residual_input(),
        'group-norm-near-miss': group_norm_near_miss(),
    }
    models['diffusion-block-fp16'] = to_float16(models['diffusion-block'])
    models['instance-norm-relu-fp16'] = to_float16(models['instance-norm-relu'])
    models['unknown-op'] = unknown_op()
    models['float16-handoff'] = float16_handoff()
    for name, model in models.items():
        if name not in ('contrib-group-norm', 'unknown-op'):
            onnx.checker.check_model(model)
        with open(os.path.join(OUT, f'{name}.onnx'), 'wb') as file:
            file.write(model.SerializeToString())
    external = onnx.ModelProto.FromString(models['instance-norm-1d'].SerializeToString())
    onnx.external_data_helper.convert_model_to_external_data(external, all_tensors_to_one_file=True, location='external-data.bin', size_threshold=0)
    onnx.save_model(external, os.path.join(OUT, 'external-data.onnx'))
    models['external-data'] = onnx.load(os.path.join(OUT, 'external-data.onnx'), load_external_data=False)
    models_for_summary = {**models, 'external-data': onnx.load(os.path.join(OUT, 'external-data.onnx'))}
    write_summary(models_for_summary)
    total = sum(os.path.getsize(os.path.join(OUT, f'{name}.onnx')) for name in models) + os.path.getsize(os.path.join(OUT, 'external-data.bin'))
    print(f'{len(models)} models in {os.path.relpath(OUT)}, {total} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
