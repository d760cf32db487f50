// The backends, storage and layout surgery are not part of the public API: a program
// cannot reach a raw GEMM, a storage, or build a layout that lies about its tensor.
use keras::lolcore::Layout;

fn main() {
    let _ = keras::lolcore::cpu::gemm::sgemm;
    let _ = keras::lolcore::storage::Storage::len;
    let l = Layout::contiguous(&[2, 3]);
    let _ = l.transpose(0, 1);
    let _ = Layout::new(vec![4], vec![1], 100);
}
