// The inference graph as an ONNX model (opset 17): Conv, BatchNormalization (or folded), Relu, MaxPool,
// Flatten, Gemm, and optionally Sub/Div normalizing the input first. Input `input` float32
// [batch, 3, H, W] (symbolic batch), output `logits` [batch, classes]; initializers carry the
// state-dict names. The bytes are encoded by protobufjs from ONNX's own schema (onnx-proto.ts).
import type { Op, InferenceGraph } from './graph.js';
import { inputContract, type ExportInfo } from './source.js';
import { IR_VERSION, OPSET, onnxSchema } from './onnx-proto.js';

interface Node { op_type: string; name: string; input: string[]; output: string[]; attribute: object[] }
interface Initializer { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

/** The ONNX model's bytes. */
export function onnxBytes(graph: InferenceGraph, info: ExportInfo): Uint8Array {
  const s = onnxSchema();
  const T = s.attributeType;
  const ints = (name: string, v: number[]) => ({ name, type: T.INTS, ints: v });
  const int = (name: string, v: number) => ({ name, type: T.INT, i: v });
  const float = (name: string, v: number) => ({ name, type: T.FLOAT, f: v });
  const nodes: Node[] = [];
  const inits: Initializer[] = [];
  const init = (name: string, dims: number[], data: Float32Array) => {
    // ONNX raw_data is little-endian, as Float32Array is on every platform Node runs on.
    inits.push({ name, dims, data_type: s.FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  };
  let x = 'input';
  const node = (op_type: string, name: string, inputs: string[], attribute: object[] = []) => {
    nodes.push({ op_type, name, input: [x, ...inputs], output: [name], attribute });
    x = name;
  };

  const n = info.normalization;
  if (n && info.normalizationInModel) {
    node('Sub', 'normalize.sub', [init('normalize.mean', [1, 3, 1, 1], Float32Array.from(n.mean))]);
    node('Div', 'normalize.div', [init('normalize.std', [1, 3, 1, 1], Float32Array.from(n.std))]);
  }
  for (const op of graph.ops) opNode(op, node, init, { ints, int, float });
  nodes.at(-1)!.output = ['logits'];

  const [h, w] = info.inputSize;
  const tensorType = (dims: Array<number | string>) => ({
    tensor_type: { elem_type: s.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } },
  });
  const model = {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'vgg-cifar',
    producer_version: info.version,
    model_version: 1,
    doc_string: `${info.description}. Input: ${inputContract(info, 'NCHW')}.`,
    graph: {
      name: info.name,
      node: nodes,
      initializer: inits,
      input: [{ name: 'input', type: tensorType(['batch', graph.input[0], h, w]), doc_string: inputContract(info, 'NCHW') }],
      output: [{ name: 'logits', type: tensorType(['batch', info.classes.length]) }],
    },
    metadata_props: Object.entries(metadataProps(info)).map(([key, value]) => ({ key, value })),
  };
  const err = s.ModelProto.verify(model);
  if (err) throw new Error(`export: the ONNX model does not match ONNX's schema: ${err}`);
  return s.ModelProto.encode(model).finish();
}

type Attr = { ints: (n: string, v: number[]) => object; int: (n: string, v: number) => object; float: (n: string, v: number) => object };

function opNode(op: Op, node: (type: string, name: string, inputs: string[], attrs?: object[]) => void,
  init: (name: string, dims: number[], data: Float32Array) => string, a: Attr): void {
  switch (op.kind) {
    case 'conv': {
      const tag = op.foldedBn ? `.folded_${op.foldedBn}` : '';
      node('Conv', op.name, [
        init(`${op.name}.weight${tag}`, [op.outChannels, op.inChannels, op.kernel, op.kernel], op.weight),
        init(`${op.name}.bias${tag}`, [op.outChannels], op.bias),
      ], [a.ints('kernel_shape', [op.kernel, op.kernel]), a.ints('strides', [op.stride, op.stride]), a.ints('pads', [op.padding, op.padding, op.padding, op.padding])]);
      return;
    }
    case 'batchnorm': {
      const c = [op.gamma.length];
      node('BatchNormalization', op.name, [init(`${op.name}.weight`, c, op.gamma), init(`${op.name}.bias`, c, op.beta),
        init(`${op.name}.running_mean`, c, op.mean), init(`${op.name}.running_var`, c, op.variance)],
      // ONNX's momentum weighs the running value (PyTorch's weighs the batch).
      [a.float('epsilon', op.eps), a.float('momentum', 1 - op.momentum)]);
      return;
    }
    case 'relu': return node('Relu', op.name, []);
    case 'maxpool':
      return node('MaxPool', op.name, [], [a.ints('kernel_shape', [op.kernel, op.kernel]), a.ints('strides', [op.stride, op.stride]),
        a.ints('pads', [op.padding, op.padding, op.padding, op.padding])]);
    case 'flatten': return node('Flatten', op.name, [], [a.int('axis', 1)]);
    case 'linear':
      return node('Gemm', op.name, [init(`${op.name}.weight`, [op.outFeatures, op.inFeatures], op.weight), init(`${op.name}.bias`, [op.outFeatures], op.bias)],
        [a.int('transB', 1)]);
    case 'dropout': return; // identity at inference
  }
}

/** Key/value pairs every consumer can read (onnx.load(...).metadata_props, InferenceSession metadata). */
export function metadataProps(info: ExportInfo): Record<string, string> {
  const props: Record<string, string> = {
    'vgg_cifar.version': info.version,
    'vgg_cifar.source': info.source,
    architecture: JSON.stringify(info.config),
    classes: JSON.stringify(info.classes),
    input: inputContract(info, 'NCHW'),
    normalization: JSON.stringify(info.normalization ? { ...info.normalization, in_model: info.normalizationInModel } : null),
    bn_folded: String(info.foldedBn),
  };
  if (info.epoch !== null) props.epoch = String(info.epoch);
  if (info.evaluation) props.test_accuracy = JSON.stringify(info.evaluation);
  return props;
}
