//! Descriptions from proto comments.

use prost_reflect::FileDescriptor;

/// The leading comment of the element at `path` in `file`, as one text
/// (empty when there is none).
pub fn description(file: &FileDescriptor, path: &[i32]) -> String {
    crate::codegen::leading_comments(file, path)
        .join("\n")
        .trim()
        .to_string()
}
