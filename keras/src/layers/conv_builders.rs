//! Builders every convolution layer shares (Conv1D, Conv2D, ConvTranspose1D/2D): the
//! options that change its parameters' shapes or initialisation, which re-create them.

/// `groups`, `bias`, `init` and `activation` for a layer with `params.groups`,
/// `init: (Init, Option<Init>)`, `activation` and a `rebuild()` that re-creates its
/// tensors.
macro_rules! conv_builders {
    () => {
        /// Grouped convolution; `in_channels` and `out_channels` must divide by `groups`
        /// (checked when the layer runs).
        pub fn groups(mut self, g: usize) -> Self {
            self.params.groups = g;
            self.rebuild()
        }
        /// With (default) or without the `bias` parameter.
        pub fn bias(mut self, on: bool) -> Self {
            self.init.1 = if on { Some(self.init.1.unwrap_or(Init::TorchDefault)) } else { None };
            self.rebuild()
        }
        /// The weight's initialiser (PyTorch's default unless set).
        pub fn init(mut self, init: Init) -> Self {
            self.init.0 = init;
            self.rebuild()
        }
        /// An activation applied to the output (Keras's `activation=`).
        pub fn activation(mut self, activation: Activation) -> Self {
            self.activation = activation;
            self
        }
    };
}
pub(crate) use conv_builders;

/// `bias`, `init` and `activation` on a lazy convolution (`Lazy<Conv2D>` ...), recorded
/// until it is built.
macro_rules! lazy_conv_builders {
    () => {
        /// With (default) or without the `bias` parameter.
        pub fn bias(self, on: bool) -> Self {
            self.map(move |l| l.bias(on))
        }
        /// The weight's initialiser (PyTorch's default unless set).
        pub fn init(self, init: Init) -> Self {
            self.map(move |l| l.init(init))
        }
        /// An activation applied to the output (Keras's `activation=`).
        pub fn activation(self, activation: Activation) -> Self {
            self.map(move |l| l.activation(activation))
        }
    };
}
pub(crate) use lazy_conv_builders;
