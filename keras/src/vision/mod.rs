//! Images in and out of models: decoding PNG and JPEG files into tensors, and the
//! torchvision transforms a pretrained classifier expects (resize, center crop,
//! normalize).

mod image_file;
mod transforms;

pub use image_file::{load_image, tensor_from_rgb8};
pub use transforms::{center_crop, normalize, resize, resize_to, ImageTransform, IMAGENET_MEAN, IMAGENET_STD};
