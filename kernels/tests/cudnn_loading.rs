//! cuDNN is optional: where it cannot be opened, asking for it is an error that names
//! the library, never a panic (cudarc panics on a missing library if asked directly).

#[test]
fn missing_cudnn_is_an_error_naming_the_library() {
    match lol_kernels::cudnn::library_present() {
        Ok(()) => {
            let v = lol_kernels::cudnn::version().expect("version of an opened cuDNN");
            assert!(v >= 8000, "cuDNN {v} is older than 8");
            println!("cuDNN {v} opened");
        }
        Err(e) => {
            assert!(e.contains("libcudnn"), "unhelpful message: {e}");
            assert!(lol_kernels::cudnn::version().is_err());
            println!("no cuDNN here: {e}");
        }
    }
}
