export {
  Vgg, vgg, vgg11, vgg13, vgg16, vgg19, vggConfig, vggLayers, modelFromConfig, VGG_LAYERS,
  type VggConfig, type VggOptions, type VggDepth, type ClassifierKind,
} from './vgg.js';
export type { Vgg as Model } from './vgg.js';
