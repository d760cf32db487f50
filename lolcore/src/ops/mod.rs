//! Tensor ops. Each file holds one family: shape rule, dispatch to the backend, and the
//! backward and forward-mode rules beside the forward.

pub mod activation;
pub mod adaptive_pool;
pub mod attention;
pub mod binary;
pub mod cat;
pub mod compare;
pub mod conv;
pub mod conv1d;
pub mod conv_params;
pub mod conv_transpose;
pub mod convert;
pub mod cumsum;
pub mod dropout;
pub mod index;
pub mod kinds;
pub mod linalg;
pub mod mask;
pub mod matmul;
pub mod operators;
pub mod pad;
pub mod pool_params;
pub mod pooling;
pub mod reduce;
pub mod softmax;
pub mod unary;
pub mod upsample;
pub mod view;
