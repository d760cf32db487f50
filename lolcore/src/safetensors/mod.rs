//! safetensors I/O: the format PyTorch's `safetensors.torch.save_file` writes. Names are
//! the modules' dotted names, so a checkpoint of the same structure loads unchanged.

mod header;
mod load;
mod module_io;
mod name_suggestions;
mod save;

pub(crate) use header::element_size;
pub use header::{parse as parse_header, Header, TensorInfo};
pub use load::{load, SafeTensors};
pub use module_io::{load_checkpoint, load_module, save_module, LoadOptions, LoadReport, Remap};
pub(crate) use save::le_bytes;
pub use save::{save, write_atomically};
