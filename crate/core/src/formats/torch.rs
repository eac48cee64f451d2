//! PyTorch checkpoints in the ZIP format `torch.save` writes since PyTorch 1.6 (`.bin`, `.pt`,
//! `.pth`): read through the restricted unpickler of [`super::unpickle`]; no code is executed.
//!
//! ## Layout (torch/serialization.py `_save`, caffe2 `inline_container.cc`)
//! - A ZIP archive whose members all sit under one root folder (`archive/` for files saved by
//!   torch ≥ 2.x, the file stem for older ones): `data.pkl` (the pickled object, protocol 2),
//!   `data/<key>` (one member per storage, **stored** uncompressed, its data aligned to 64 bytes
//!   by an `FB` padding extra field in the local header), `byteorder` (`little`/`big`), `version`,
//!   and `.format_version`, `.storage_alignment`, `.data/serialization_id` in newer versions. The
//!   ZIP directory code is shared with `.npz` ([`super::npz::zip_members`]).
//! - A tensor in `data.pkl` is `torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
//!   stride, requires_grad, backward_hooks)` (or `_rebuild_tensor_v3` with a dtype, or wrapped by
//!   `_rebuild_parameter`), where `storage` is a persistent id
//!   `('storage', torch.FloatStorage, key, location, numel)`. Element `(i₀…i_k)` of the tensor is
//!   element `storage_offset + Σ i_d·stride_d` of member `data/<key>`.
//!
//! ## What the index holds
//! - **Names**: the object is walked from its root through dicts (and lists/tuples, by index) and
//!   every tensor is named by its **dotted key path**: a plain state dict gives `fc.weight`; a
//!   nested checkpoint `{'state_dict': {...}, 'epoch': 3}` gives `state_dict.fc.weight` (nothing is
//!   picked or stripped, so every tensor of the file, optimizer moments included, is listed and
//!   names stay unambiguous). A bare tensor saved alone is called `tensor`. Tensors are listed in
//!   pickle order (= the module order of `state_dict()`); a name met twice gets a `#2` suffix.
//!   Non-tensor values (`epoch`, hyper-parameters) are listed in the index metadata as
//!   `("torch_non_tensor", path)` (at most 100).
//! - **Bytes**: each tensor is one [`Storage::Raw`] byte range of its storage member:
//!   `data_start + storage_offset · item_size`, `prod(size) · item_size` bytes, so
//!   [`super::read_tensor`] reads it like a safetensors tensor. Several tensors may view one
//!   storage (tied weights, slices): each gets its own range.
//! - **Strides**: C-contiguous tensors (strides of size-1 dimensions are ignored, as torch does)
//!   are read as they are; F-contiguous ones (a saved `weight.t()`) are read as Fortran-order data
//!   and come out in C order with their logical shape. Any other stride pattern is kept in the
//!   index with dtype [`Dtype::Other`] `"<dtype> non-contiguous strides [..]"`, so reading it is a
//!   clear [`crate::Error::UnsupportedDtype`] naming the tensor and its strides, and the rest of
//!   the file is analysed.
//! - **dtypes**: F32/F16/BF16/F64 storages are decoded; the others (Long, Int, Bool, Byte, …) are
//!   indexed as [`Dtype::Other`] (`"I64"`, `"BOOL"`, …). `byteorder = big` sets
//!   [`TensorEntry::big_endian`].
//!
//! ## Refused (each a [`crate::Error::Format`] naming the cause)
//! Any pickle global beyond the allowlist, TorchScript archives (`code/`, `constants.pkl`),
//! compressed or encrypted storage members, a storage member that is missing or shorter than its
//! declared element count, a view that reaches past its storage, a `data.pkl` over
//! [`super::unpickle::MAX_PICKLE_BYTES`], nesting deeper than [`MAX_NESTING`].
//! The legacy pre-1.6 format (a bare pickle stream) is recognised by
//! [`is_legacy_torch`] and refused by [`super::read_index`] with a message naming it.

use std::collections::{HashMap, HashSet};

use super::npz::{member_data_start, Member};
use super::source::read_vec;
use super::unpickle::{self, Node, Value};
use super::{format_err, ByteSource, Dtype, FileFormat, Storage, TensorEntry, TensorIndex};
use crate::error::Result;

/// Deepest dict/list nesting walked in a checkpoint.
pub const MAX_NESTING: usize = 64;
/// Most non-tensor paths listed in the metadata.
const MAX_NON_TENSOR_LISTED: usize = 100;

/// The message for a pre-1.6 checkpoint.
pub(crate) const LEGACY_MESSAGE: &str = "legacy torch.save format (PyTorch < 1.6) is not supported; re-save with torch ≥ 1.6 or convert to safetensors";

/// Whether the first bytes are those of the legacy `torch.save` stream: a protocol-2 pickle of the
/// magic number `0x1950a86a20f9469cfc6c` (`\x80\x02\x8a\x0a` + its little-endian bytes). The
/// first 9 bytes are enough (what [`super::read_index`] sniffs).
pub(crate) fn is_legacy_torch(head: &[u8]) -> bool {
    head.starts_with(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9")
}

/// The `data.pkl` member of a torch archive, if any: `data.pkl` at the top or one folder down.
fn pickle_member(members: &[Member]) -> Option<&Member> {
    members.iter().find(|m| {
        m.name == "data.pkl"
            || m.name
                .strip_suffix("/data.pkl")
                .is_some_and(|root| !root.is_empty() && !root.contains('/'))
    })
}

/// Whether a ZIP archive (its central directory) is a PyTorch checkpoint rather than an `.npz`.
pub(crate) fn is_torch_archive(members: &[Member]) -> bool {
    pickle_member(members).is_some()
}

/// Reads a PyTorch ZIP checkpoint's `data.pkl` and indexes its tensors (see the module doc).
pub(crate) fn read_torch_index(src: &dyn ByteSource, members: Vec<Member>) -> Result<TensorIndex> {
    let pkl = pickle_member(&members)
        .ok_or_else(|| format_err("ZIP archive has no data.pkl: not a PyTorch checkpoint"))?;
    let root = pkl.name[..pkl.name.len() - "data.pkl".len()].to_string();
    if let Some(m) = members.iter().find(|m| {
        m.name
            .strip_prefix(root.as_str())
            .is_some_and(|rest| rest.starts_with("code/") || rest == "constants.pkl")
    }) {
        return Err(format_err(format!(
            "this is a TorchScript archive (torch.jit.save; it has `{}`), not a torch.save checkpoint: save the model's state_dict() with torch.save instead",
            m.name
        )));
    }
    let pkl_bytes = read_member(src, pkl, unpickle::MAX_PICKLE_BYTES)?;
    let tree = unpickle::unpickle(&pkl_bytes).map_err(|e| match e {
        crate::Error::Format { what } => format_err(format!("`{}`: {what}", pkl.name)),
        other => other,
    })?;

    let mut metadata = vec![(
        "torch_archive_root".to_string(),
        root.trim_end_matches('/').to_string(),
    )];
    let mut big_endian = false;
    for (file, key) in [
        ("byteorder", "torch_byteorder"),
        ("version", "torch_archive_version"),
    ] {
        let name = format!("{root}{file}");
        if let Some(m) = members.iter().find(|m| m.name == name) {
            let b = read_member(src, m, 64)?;
            let text = String::from_utf8_lossy(&b).trim().to_string();
            if file == "byteorder" {
                match text.as_str() {
                    "little" => {}
                    "big" => big_endian = true,
                    other => {
                        return Err(format_err(format!(
                            "`{name}` says {other:?}, expected \"little\" or \"big\""
                        )))
                    }
                }
            }
            metadata.push((key.to_string(), text));
        }
    }

    let data_prefix = format!("{root}data/");
    let storages: HashMap<&str, &Member> = members
        .iter()
        .filter_map(|m| m.name.strip_prefix(data_prefix.as_str()).map(|k| (k, m)))
        .collect();
    let mut starts: HashMap<String, u64> = HashMap::new();

    let (found, non_tensor) = walk(&tree)?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut tensors = Vec::with_capacity(found.len());
    for (path, node) in found {
        let name = {
            let n = seen.entry(path.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                path
            } else {
                format!("{path}#{n}")
            }
        };
        let Some(Node::Tensor(t)) = tree.heap.nodes.get(node) else {
            continue;
        };
        let Some(Node::Storage(s)) = tree.heap.nodes.get(t.storage) else {
            continue;
        };
        let what = format!("tensor `{name}` (storage `{data_prefix}{}`)", s.key);
        let member = storages.get(s.key.as_str()).ok_or_else(|| {
            format_err(format!(
                "{what}: the archive has no member `{data_prefix}{}`",
                s.key
            ))
        })?;
        if member.method != 0 || member.compressed != member.uncompressed {
            return Err(format_err(format!(
                "{what}: the storage member is compressed (method {}); torch writes storages stored",
                member.method
            )));
        }
        let data_start = match starts.get(&s.key) {
            Some(&d) => d,
            None => {
                let d = member_data_start(src, member, &format!("member `{}`", member.name))?;
                starts.insert(s.key.clone(), d);
                d
            }
        };
        let storage_es = unpickle::storage_item_size(&s.type_name).unwrap_or(1);
        let storage_bytes = s
            .numel
            .checked_mul(storage_es)
            .ok_or_else(|| format_err(format!("{what}: storage numel {} overflows", s.numel)))?;
        if storage_bytes > member.uncompressed {
            return Err(format_err(format!(
                "{what}: the storage declares {} elements of {} ({storage_bytes} bytes) but its member holds {} bytes",
                s.numel, s.type_name, member.uncompressed
            )));
        }
        let (dname, es) = match &t.dtype {
            Some(d) => unpickle::dtype_name(d).unwrap_or(("U8", 1)),
            None => (
                unpickle::storage_dtype(&s.type_name).unwrap_or("U8"),
                storage_es,
            ),
        };
        let mut dtype = match dname {
            "F64" => Dtype::F64,
            "F32" => Dtype::F32,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            other => Dtype::Other(other.to_string()),
        };
        let shape: Vec<usize> = t
            .size
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| format_err(format!("{what}: shape {:?} does not fit", t.size)))?;
        let numel = t
            .size
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .ok_or_else(|| format_err(format!("{what}: shape {:?} overflows", t.size)))?;
        let byte_len = numel
            .checked_mul(es)
            .ok_or_else(|| format_err(format!("{what}: shape {:?} overflows", t.size)))?;
        let mut fortran = false;
        if numel > 0 {
            // Highest storage element the view touches.
            let mut last = t.storage_offset;
            for (&d, &st) in t.size.iter().zip(&t.stride) {
                last = (d - 1)
                    .checked_mul(st)
                    .and_then(|x| x.checked_add(last))
                    .ok_or_else(|| format_err(format!("{what}: strides overflow")))?;
            }
            let storage_elems = member.uncompressed / es;
            if last >= storage_elems {
                return Err(format_err(format!(
                    "{what}: the view (offset {}, size {:?}, stride {:?}) reaches element {last} of a {storage_elems}-element storage",
                    t.storage_offset, t.size, t.stride
                )));
            }
            if !contiguous(&t.size, &t.stride, false) {
                if contiguous(&t.size, &t.stride, true) {
                    fortran = true;
                } else {
                    dtype = Dtype::Other(format!("{dname} non-contiguous strides {:?}", t.stride));
                }
            }
        }
        let offset = t
            .storage_offset
            .checked_mul(es)
            .and_then(|o| o.checked_add(data_start))
            .filter(|&o| numel == 0 || o.checked_add(byte_len).is_some())
            .ok_or_else(|| format_err(format!("{what}: storage offset overflows")))?;
        // An empty view may carry any offset; keep it inside the member.
        let offset = if numel == 0 { data_start } else { offset };
        tensors.push(TensorEntry {
            name,
            dtype,
            shape,
            offset,
            byte_len,
            fortran_order: fortran,
            big_endian,
            storage: Storage::Raw,
        });
    }
    metadata.extend(
        non_tensor
            .into_iter()
            .take(MAX_NON_TENSOR_LISTED)
            .map(|p| ("torch_non_tensor".to_string(), p)),
    );
    Ok(TensorIndex {
        format: FileFormat::Torch,
        tensors,
        metadata,
    })
}

/// Whether `size`/`stride` describe a dense C-order (or, with `fortran`, F-order) layout.
/// Dimensions of size 1 may have any stride.
fn contiguous(size: &[u64], stride: &[u64], fortran: bool) -> bool {
    let mut expect = 1u64;
    let dims: Box<dyn Iterator<Item = (&u64, &u64)>> = if fortran {
        Box::new(size.iter().zip(stride))
    } else {
        Box::new(size.iter().zip(stride).rev())
    };
    for (&d, &s) in dims {
        if d != 1 && s != expect {
            return false;
        }
        expect = expect.saturating_mul(d);
    }
    true
}

/// Reads a whole stored member (at most `limit` bytes).
fn read_member(src: &dyn ByteSource, m: &Member, limit: u64) -> Result<Vec<u8>> {
    let what = format!("member `{}`", m.name);
    if m.method != 0 || m.compressed != m.uncompressed {
        return Err(format_err(format!(
            "{what} is compressed (method {}); torch.save stores it uncompressed",
            m.method
        )));
    }
    if m.uncompressed > limit {
        return Err(format_err(format!(
            "{what} is {} bytes, more than the limit of {limit}",
            m.uncompressed
        )));
    }
    let start = member_data_start(src, m, &what)?;
    read_vec(src, start, m.uncompressed, &what)
}

/// (dotted path, heap index of the tensor) in pickle order.
type Found = Vec<(String, usize)>;

/// Walks the unpickled object: (dotted path, tensor node) in order, and the non-tensor leaves.
fn walk(tree: &unpickle::Unpickled) -> Result<(Found, Vec<String>)> {
    let heap = &tree.heap;
    let mut found = Vec::new();
    let mut non_tensor = Vec::new();
    let mut visited: HashSet<usize> = HashSet::new();
    // (value, path, depth); children pushed in reverse so they pop in order.
    let mut todo: Vec<(Value, String, usize)> = vec![(tree.root.clone(), String::new(), 0)];
    while let Some((v, path, depth)) = todo.pop() {
        let Value::Ref(i) = v else {
            if non_tensor.len() < MAX_NON_TENSOR_LISTED {
                non_tensor.push(if path.is_empty() {
                    "(root)".into()
                } else {
                    path
                });
            }
            continue;
        };
        let child = |key: String| {
            if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            }
        };
        match &heap.nodes[i] {
            Node::Tensor(_) => {
                found.push((
                    if path.is_empty() {
                        "tensor".into()
                    } else {
                        path
                    },
                    i,
                ));
                continue;
            }
            Node::Storage(_) => continue,
            _ => {}
        }
        if depth >= MAX_NESTING {
            return Err(format_err(format!(
                "checkpoint nests dicts/lists deeper than {MAX_NESTING} levels (at `{path}`)"
            )));
        }
        if !visited.insert(i) {
            continue; // the same container reached twice (or a cycle)
        }
        match &heap.nodes[i] {
            Node::Dict(d) => {
                for (k, val) in d.iter().rev() {
                    todo.push((val.clone(), child(key_text(k)), depth + 1));
                }
            }
            Node::List(l) | Node::Tuple(l) => {
                for (n, val) in l.iter().enumerate().rev() {
                    todo.push((val.clone(), child(n.to_string()), depth + 1));
                }
            }
            Node::Tensor(_) | Node::Storage(_) => {}
        }
    }
    Ok((found, non_tensor))
}

fn key_text(k: &Value) -> String {
    match k {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::None => "None".to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Global(m, n) => format!("{m}.{n}"),
        Value::Ref(i) => format!("<object {i}>"),
    }
}
