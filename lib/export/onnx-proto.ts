// ONNX's protobuf schema (proto/onnx.proto, ONNX's own file) parsed by protobufjs, with the proto's
// snake_case field names kept, so that the objects built in onnx.ts read like the ONNX spec.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { packageRoot } from '../backend.js';

/** The IR version of the vendored schema (onnx 1.12), the one opset 17 belongs to. */
export const IR_VERSION = 8;
export const OPSET = 17;

export interface OnnxSchema {
  ModelProto: protobuf.Type;
  /** TensorProto.DataType.FLOAT */
  FLOAT: number;
  /** AttributeProto.AttributeType values by name (INT, INTS, FLOAT, ...). */
  attributeType: Record<string, number>;
}

let schema: OnnxSchema | null = null;

export function onnxSchema(): OnnxSchema {
  if (schema) return schema;
  const file = join(packageRoot(), 'proto', 'onnx.proto');
  const root = protobuf.parse(readFileSync(file, 'utf8'), { keepCase: true }).root;
  schema = {
    ModelProto: root.lookupType('onnx.ModelProto'),
    FLOAT: root.lookupEnum('onnx.TensorProto.DataType').values.FLOAT,
    attributeType: root.lookupEnum('onnx.AttributeProto.AttributeType').values,
  };
  return schema;
}
