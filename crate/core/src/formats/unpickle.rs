//! A **restricted unpickler** for the `data.pkl` of a PyTorch checkpoint: a small stack machine
//! that understands the data opcodes of pickle protocols 0–5 that `torch.save` state dicts use,
//! and calls nothing. It builds a tree of plain values ([`Value`], containers in an arena
//! [`Heap`]) in which the few allowlisted "calls" are represented as data:
//!
//! - `collections.OrderedDict()` → an empty dict (a `BUILD` on it, which attaches `_metadata`,
//!   is accepted and ignored);
//! - `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
//!   backward_hooks[, metadata])` and `_rebuild_tensor_v3(…, dtype[, metadata])` → a [`Tensor`]
//!   node; `torch._utils._rebuild_parameter(data, requires_grad, hooks)`,
//!   `_rebuild_parameter_with_state(…, state)` and
//!   `torch._tensor._rebuild_from_type_v2(func, type, args, state)` → their tensor;
//! - a `BINPERSID` of `('storage', torch.<T>Storage, key, location, numel)` → a [`StorageRef`];
//! - `_codecs.encode(str, 'latin1')` → bytes; `torch.Size(tuple)` → the tuple;
//!   `torch.<dtype>` globals (only as the `dtype` argument of `_rebuild_tensor_v3`).
//!
//! Every other global is refused when the `GLOBAL`/`STACK_GLOBAL` opcode names it ("refusing to
//! load: pickle calls os.system"), as are `INST`, `OBJ`, `NEWOBJ_EX`, text `PERSID`, `EXT*`,
//! out-of-band buffers, `REDUCE`/`NEWOBJ` on anything that is not an allowlisted callable, and
//! `BUILD` on anything but a dict or a tensor.
//!
//! Bounds: the input length ([`MAX_PICKLE_BYTES`]), each string or bytes object (by the bytes
//! left and [`MAX_STRING_BYTES`]), integers (`LONG1`/`LONG4` of more than 8 bytes are refused),
//! the memo ([`MAX_MEMO`] entries, stored in a hash map so a large index allocates nothing),
//! the containers ([`MAX_NODES`]) and the number of opcodes ([`MAX_OPS`]). The machine is a loop
//! over opcodes with an explicit stack: nesting depth in the file never recurses in Rust.

use std::collections::HashMap;
use std::rc::Rc;

use super::format_err;
use crate::error::Result;

/// Largest `data.pkl` accepted (bytes).
pub const MAX_PICKLE_BYTES: u64 = 256 << 20;
/// Largest single string or bytes object in a pickle.
pub const MAX_STRING_BYTES: u64 = 16 << 20;
/// Most memo entries.
pub const MAX_MEMO: usize = 1 << 22;
/// Most containers (tuples, lists, dicts, sets, tensors, storages) one pickle may create.
pub const MAX_NODES: usize = 1 << 22;
/// Most opcodes executed.
pub const MAX_OPS: u64 = 1 << 28;

/// A value on the machine's stack. Containers live in the [`Heap`] and are shared by index, as
/// Python objects are shared by reference (a memoized dict filled later is the same dict).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True`/`False`.
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// A float.
    Float(f64),
    /// A text string.
    Str(Rc<str>),
    /// A bytes object.
    Bytes(Rc<[u8]>),
    /// An allowlisted global (`module`, `name`).
    Global(Rc<str>, Rc<str>),
    /// A container in the heap.
    Ref(usize),
}

/// A storage named by a persistent id.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageRef {
    /// The storage class name (`FloatStorage`, `UntypedStorage`, …).
    pub type_name: String,
    /// The archive key: the storage is the member `<root>/data/<key>`.
    pub key: String,
    /// Declared element count (elements of the storage type; bytes for `UntypedStorage`).
    pub numel: u64,
}

/// A tensor: a strided view of a storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Index of the [`Node::Storage`] in the heap.
    pub storage: usize,
    /// Offset of element 0 in the storage, in elements.
    pub storage_offset: u64,
    /// Shape.
    pub size: Vec<u64>,
    /// Strides in elements.
    pub stride: Vec<u64>,
    /// `_rebuild_tensor_v3`'s dtype global name (`float32`, …), if any.
    pub dtype: Option<String>,
}

/// A container.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A tuple (or a frozen set).
    Tuple(Vec<Value>),
    /// A list (or a set).
    List(Vec<Value>),
    /// A dict or `OrderedDict`, in insertion order (a repeated key replaces the value in place).
    Dict(Vec<(Value, Value)>),
    /// A persistent storage reference.
    Storage(StorageRef),
    /// A tensor.
    Tensor(Tensor),
}

/// The containers created while unpickling.
#[derive(Debug, Default)]
pub struct Heap {
    /// Indexed by [`Value::Ref`].
    pub nodes: Vec<Node>,
}

impl Heap {
    fn push(&mut self, n: Node) -> Result<Value> {
        if self.nodes.len() >= MAX_NODES {
            return Err(format_err(format!(
                "pickle creates more than {MAX_NODES} containers"
            )));
        }
        self.nodes.push(n);
        Ok(Value::Ref(self.nodes.len() - 1))
    }

    /// The node `v` refers to, if it is a container.
    pub fn node(&self, v: &Value) -> Option<&Node> {
        match v {
            Value::Ref(i) => self.nodes.get(*i),
            _ => None,
        }
    }
}

/// Whether `module.name` may be named by the pickle.
fn allowed_global(module: &str, name: &str) -> bool {
    match module {
        "collections" => name == "OrderedDict",
        "torch._utils" => matches!(
            name,
            "_rebuild_tensor_v2"
                | "_rebuild_tensor_v3"
                | "_rebuild_parameter"
                | "_rebuild_parameter_with_state"
        ),
        "torch._tensor" => name == "_rebuild_from_type_v2",
        "torch.nn.parameter" => name == "Parameter",
        "_codecs" => name == "encode",
        "torch" => {
            storage_item_size(name).is_some() || dtype_name(name).is_some() || {
                matches!(name, "Size" | "Tensor")
            }
        }
        _ => false,
    }
}

/// Element size of a `torch.<name>` storage class.
pub fn storage_item_size(name: &str) -> Option<u64> {
    Some(match name {
        "DoubleStorage" | "LongStorage" | "ComplexFloatStorage" => 8,
        "FloatStorage" | "IntStorage" => 4,
        "HalfStorage" | "BFloat16Storage" | "ShortStorage" => 2,
        "CharStorage" | "ByteStorage" | "BoolStorage" | "UntypedStorage" => 1,
        "ComplexDoubleStorage" => 16,
        _ => return None,
    })
}

/// Our dtype spelling (`F32`, `I64`, …; see [`super::Dtype`]) and element size of a torch dtype
/// name (`float32`, `int64`, …).
pub fn dtype_name(name: &str) -> Option<(&'static str, u64)> {
    Some(match name {
        "float64" | "double" => ("F64", 8),
        "float32" | "float" => ("F32", 4),
        "float16" | "half" => ("F16", 2),
        "bfloat16" => ("BF16", 2),
        "int64" | "long" => ("I64", 8),
        "int32" | "int" => ("I32", 4),
        "int16" | "short" => ("I16", 2),
        "int8" => ("I8", 1),
        "uint8" => ("U8", 1),
        "uint16" => ("U16", 2),
        "uint32" => ("U32", 4),
        "uint64" => ("U64", 8),
        "bool" => ("BOOL", 1),
        "complex64" | "cfloat" => ("C64", 8),
        "complex128" | "cdouble" => ("C128", 16),
        "float8_e4m3fn" => ("F8_E4M3", 1),
        "float8_e5m2" => ("F8_E5M2", 1),
        "float8_e8m0fnu" => ("F8_E8M0", 1),
        _ => return None,
    })
}

/// Our dtype spelling of a storage class name.
pub fn storage_dtype(name: &str) -> Option<&'static str> {
    Some(match name {
        "DoubleStorage" => "F64",
        "FloatStorage" => "F32",
        "HalfStorage" => "F16",
        "BFloat16Storage" => "BF16",
        "LongStorage" => "I64",
        "IntStorage" => "I32",
        "ShortStorage" => "I16",
        "CharStorage" => "I8",
        "ByteStorage" | "UntypedStorage" => "U8",
        "BoolStorage" => "BOOL",
        "ComplexFloatStorage" => "C64",
        "ComplexDoubleStorage" => "C128",
        _ => return None,
    })
}

fn refuse(what: impl std::fmt::Display) -> crate::error::Error {
    format_err(format!("refusing to load: pickle {what}"))
}

/// The result of [`unpickle`]: the root value and the heap it refers to.
#[derive(Debug)]
pub struct Unpickled {
    /// The value `STOP` returned.
    pub root: Value,
    /// Containers.
    pub heap: Heap,
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let left = (self.b.len() - self.pos) as u64;
        if n > left {
            return Err(format_err(format!(
                "pickle is truncated: {what} needs {n} bytes at offset {}, {left} left",
                self.pos
            )));
        }
        let s = &self.b[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn uint(&mut self, n: u64, what: &str) -> Result<u64> {
        let s = self.take(n, what)?;
        Ok(s.iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
    fn line(&mut self, what: &str) -> Result<&'a str> {
        let rest = &self.b[self.pos..];
        let end = rest
            .iter()
            .take(4096)
            .position(|&c| c == b'\n')
            .ok_or_else(|| {
                format_err(format!(
                    "pickle: {what} at offset {} has no newline within 4096 bytes",
                    self.pos
                ))
            })?;
        let s = std::str::from_utf8(&rest[..end]).map_err(|_| {
            format_err(format!(
                "pickle: {what} at offset {} is not UTF-8",
                self.pos
            ))
        })?;
        self.pos += end + 1;
        Ok(s)
    }
    fn sized(&mut self, len_bytes: u64, what: &str) -> Result<&'a [u8]> {
        let n = self.uint(len_bytes, what)?;
        if n > MAX_STRING_BYTES {
            return Err(format_err(format!(
                "pickle: {what} at offset {} declares {n} bytes, more than the limit of {MAX_STRING_BYTES}",
                self.pos
            )));
        }
        self.take(n, what)
    }
}

fn utf8(b: &[u8], what: &str) -> Result<Rc<str>> {
    std::str::from_utf8(b)
        .map(Rc::from)
        .map_err(|_| format_err(format!("pickle: {what} is not valid UTF-8")))
}

/// Two's-complement little-endian integer of at most 8 bytes.
fn long_le(b: &[u8], at: usize) -> Result<i64> {
    if b.len() > 8 {
        return Err(format_err(format!(
            "pickle: integer of {} bytes at offset {at} does not fit in 64 bits",
            b.len()
        )));
    }
    if b.is_empty() {
        return Ok(0);
    }
    let mut v = [if b[b.len() - 1] & 0x80 != 0 { 0xFF } else { 0 }; 8];
    v[..b.len()].copy_from_slice(b);
    Ok(i64::from_le_bytes(v))
}

/// Runs the restricted machine over `data` (a whole pickle).
pub fn unpickle(data: &[u8]) -> Result<Unpickled> {
    if data.len() as u64 > MAX_PICKLE_BYTES {
        return Err(format_err(format!(
            "pickle is {} bytes, more than the limit of {MAX_PICKLE_BYTES}",
            data.len()
        )));
    }
    let mut r = Reader { b: data, pos: 0 };
    let mut heap = Heap::default();
    let mut stack: Vec<Value> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut memo: HashMap<u64, Value> = HashMap::new();
    // (dict node, string key) → slot, so a repeated key replaces its value in O(1).
    let mut keys: DictKeys = HashMap::new();
    let mut ops = 0u64;
    let mut at: usize;

    macro_rules! pop {
        ($what:expr) => {
            match stack.pop() {
                Some(v) if marks.last().is_none_or(|&m| stack.len() >= m) => v,
                _ => {
                    return Err(format_err(format!(
                        "pickle: {} at offset {} pops an empty stack",
                        $what, at
                    )))
                }
            }
        };
    }
    macro_rules! pop_mark {
        ($what:expr) => {{
            let m = marks.pop().ok_or_else(|| {
                format_err(format!("pickle: {} at offset {} has no MARK", $what, at))
            })?;
            stack.split_off(m)
        }};
    }

    loop {
        ops += 1;
        if ops > MAX_OPS {
            return Err(format_err(format!(
                "pickle runs more than {MAX_OPS} opcodes"
            )));
        }
        at = r.pos;
        let op = r
            .u8("opcode")
            .map_err(|_| format_err("pickle is truncated: it ends before its STOP opcode"))?;
        match op {
            0x80 => {
                let v = r.u8("PROTO")?;
                if v > 5 {
                    return Err(format_err(format!(
                        "pickle protocol {v} is not supported (0–5)"
                    )));
                }
            }
            0x95 => {
                r.uint(8, "FRAME")?;
            }
            b'.' => {
                let root = pop!("STOP");
                return Ok(Unpickled { root, heap });
            }
            b'(' => marks.push(stack.len()),
            b'0' => {
                pop!("POP");
            }
            b'1' => {
                let _ = pop_mark!("POP_MARK");
            }
            b'2' => {
                let v = pop!("DUP");
                stack.push(v.clone());
                stack.push(v);
            }
            b'N' => stack.push(Value::None),
            0x88 => stack.push(Value::Bool(true)),
            0x89 => stack.push(Value::Bool(false)),
            b'J' => {
                let v = r.uint(4, "BININT")? as u32 as i32;
                stack.push(Value::Int(i64::from(v)));
            }
            b'K' => stack.push(Value::Int(i64::from(r.u8("BININT1")?))),
            b'M' => stack.push(Value::Int(r.uint(2, "BININT2")? as i64)),
            0x8a => {
                let b = r.sized(1, "LONG1")?;
                stack.push(Value::Int(long_le(b, at)?));
            }
            0x8b => {
                let b = r.sized(4, "LONG4")?;
                stack.push(Value::Int(long_le(b, at)?));
            }
            b'I' => {
                let s = r.line("INT")?;
                let v = match s {
                    "00" => Value::Bool(false),
                    "01" => Value::Bool(true),
                    _ => Value::Int(s.parse().map_err(|_| {
                        format_err(format!(
                            "pickle: INT at offset {at} is not an integer: {s:?}"
                        ))
                    })?),
                };
                stack.push(v);
            }
            b'G' => {
                let b = r.take(8, "BINFLOAT")?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                stack.push(Value::Float(f64::from_be_bytes(a)));
            }
            b'X' => {
                let b = r.sized(4, "BINUNICODE")?;
                stack.push(Value::Str(utf8(b, "BINUNICODE")?));
            }
            0x8c => {
                let b = r.sized(1, "SHORT_BINUNICODE")?;
                stack.push(Value::Str(utf8(b, "SHORT_BINUNICODE")?));
            }
            0x8d => {
                let b = r.sized(8, "BINUNICODE8")?;
                stack.push(Value::Str(utf8(b, "BINUNICODE8")?));
            }
            b'U' => {
                // Python 2 str: latin-1 bytes, decoded as text (torch reads with encoding='utf-8').
                let b = r.sized(1, "SHORT_BINSTRING")?;
                stack.push(Value::Str(
                    b.iter().map(|&c| c as char).collect::<String>().into(),
                ));
            }
            b'T' => {
                let b = r.sized(4, "BINSTRING")?;
                stack.push(Value::Str(
                    b.iter().map(|&c| c as char).collect::<String>().into(),
                ));
            }
            b'B' => stack.push(Value::Bytes(r.sized(4, "BINBYTES")?.into())),
            b'C' => stack.push(Value::Bytes(r.sized(1, "SHORT_BINBYTES")?.into())),
            0x8e => stack.push(Value::Bytes(r.sized(8, "BINBYTES8")?.into())),
            b')' => stack.push(heap.push(Node::Tuple(Vec::new()))?),
            b't' => {
                let items = pop_mark!("TUPLE");
                stack.push(heap.push(Node::Tuple(items))?);
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(pop!("TUPLEn"));
                }
                items.reverse();
                stack.push(heap.push(Node::Tuple(items))?);
            }
            b']' => stack.push(heap.push(Node::List(Vec::new()))?),
            b'l' => {
                let items = pop_mark!("LIST");
                stack.push(heap.push(Node::List(items))?);
            }
            b'}' => stack.push(heap.push(Node::Dict(Vec::new()))?),
            b'd' => {
                let items = pop_mark!("DICT");
                let v = heap.push(Node::Dict(Vec::new()))?;
                set_items(&mut heap, &mut keys, &v, items, at)?;
                stack.push(v);
            }
            0x8f => stack.push(heap.push(Node::List(Vec::new()))?),
            0x91 => {
                let items = pop_mark!("FROZENSET");
                stack.push(heap.push(Node::Tuple(items))?);
            }
            b'a' => {
                let v = pop!("APPEND");
                let list = stack.last().cloned().unwrap_or(Value::None);
                append(&mut heap, &list, vec![v], at, "APPEND")?;
            }
            b'e' | 0x90 => {
                let name = if op == b'e' { "APPENDS" } else { "ADDITEMS" };
                let items = pop_mark!(name);
                let list = stack.last().cloned().unwrap_or(Value::None);
                append(&mut heap, &list, items, at, name)?;
            }
            b's' => {
                let v = pop!("SETITEM");
                let k = pop!("SETITEM");
                let d = stack.last().cloned().unwrap_or(Value::None);
                set_items(&mut heap, &mut keys, &d, vec![k, v], at)?;
            }
            b'u' => {
                let items = pop_mark!("SETITEMS");
                let d = stack.last().cloned().unwrap_or(Value::None);
                set_items(&mut heap, &mut keys, &d, items, at)?;
            }
            b'q' | b'r' | 0x94 => {
                let idx = match op {
                    b'q' => r.uint(1, "BINPUT")?,
                    b'r' => r.uint(4, "LONG_BINPUT")?,
                    _ => memo.len() as u64,
                };
                let v = stack.last().cloned().ok_or_else(|| {
                    format_err(format!("pickle: memo put at offset {at} on an empty stack"))
                })?;
                if memo.len() >= MAX_MEMO && !memo.contains_key(&idx) {
                    return Err(format_err(format!(
                        "pickle memo grows past {MAX_MEMO} entries"
                    )));
                }
                memo.insert(idx, v);
            }
            b'h' | b'j' => {
                let idx = if op == b'h' {
                    r.uint(1, "BINGET")?
                } else {
                    r.uint(4, "LONG_BINGET")?
                };
                let v = memo.get(&idx).cloned().ok_or_else(|| {
                    format_err(format!(
                        "pickle: memo get of undefined entry {idx} at offset {at}"
                    ))
                })?;
                stack.push(v);
            }
            b'p' | b'g' => {
                let s = r.line("PUT/GET")?;
                let idx: u64 = s.parse().map_err(|_| {
                    format_err(format!(
                        "pickle: memo index {s:?} at offset {at} is not a number"
                    ))
                })?;
                if op == b'g' {
                    let v = memo.get(&idx).cloned().ok_or_else(|| {
                        format_err(format!(
                            "pickle: memo get of undefined entry {idx} at offset {at}"
                        ))
                    })?;
                    stack.push(v);
                } else {
                    let v = stack.last().cloned().ok_or_else(|| {
                        format_err(format!("pickle: memo put at offset {at} on an empty stack"))
                    })?;
                    if memo.len() >= MAX_MEMO && !memo.contains_key(&idx) {
                        return Err(format_err(format!(
                            "pickle memo grows past {MAX_MEMO} entries"
                        )));
                    }
                    memo.insert(idx, v);
                }
            }
            b'c' => {
                let module = r.line("GLOBAL module")?;
                let name = r.line("GLOBAL name")?;
                stack.push(global(module, name)?);
            }
            0x93 => {
                let name = pop!("STACK_GLOBAL");
                let module = pop!("STACK_GLOBAL");
                match (module, name) {
                    (Value::Str(m), Value::Str(n)) => stack.push(global(&m, &n)?),
                    _ => {
                        return Err(format_err(format!(
                            "pickle: STACK_GLOBAL at offset {at} needs two strings"
                        )))
                    }
                }
            }
            b'R' | 0x81 => {
                let args = pop!("REDUCE");
                let func = pop!("REDUCE");
                let v = call(&mut heap, &func, &args, op == 0x81)?;
                stack.push(v);
            }
            b'b' => {
                let _state = pop!("BUILD");
                let target = stack.last().cloned().unwrap_or(Value::None);
                match heap.node(&target) {
                    Some(Node::Dict(_)) | Some(Node::Tensor(_)) => {}
                    _ => {
                        return Err(refuse(format!(
                            "sets the state of {} (BUILD at offset {at}); only dicts and tensors may have state",
                            describe(&heap, &target)
                        )))
                    }
                }
            }
            b'Q' => {
                let pid = pop!("BINPERSID");
                stack.push(persistent_load(&mut heap, &pid, at)?);
            }
            b'i' => {
                let module = r.line("INST module").unwrap_or("?");
                let name = r.line("INST name").unwrap_or("?");
                return Err(refuse(format!(
                    "calls {module}.{name} (INST opcode at offset {at})"
                )));
            }
            b'o' => {
                return Err(refuse(format!(
                    "builds an object (OBJ opcode at offset {at})"
                )))
            }
            0x92 => {
                return Err(refuse(format!(
                    "builds an object (NEWOBJ_EX opcode at offset {at})"
                )))
            }
            b'P' => {
                return Err(refuse(format!(
                    "uses a text persistent id (PERSID opcode at offset {at})"
                )))
            }
            0x82..=0x84 => {
                return Err(refuse(format!(
                    "uses the extension registry (EXT opcode at offset {at})"
                )))
            }
            0x96..=0x98 => {
                return Err(refuse(format!(
                    "uses out-of-band buffers (opcode {op:#04x} at offset {at})"
                )))
            }
            other => {
                return Err(format_err(format!(
                    "pickle: unknown or unsupported opcode {other:#04x} ({:?}) at offset {at}",
                    other as char
                )))
            }
        }
    }
}

fn global(module: &str, name: &str) -> Result<Value> {
    if !allowed_global(module, name) {
        let shown: String = format!("{module}.{name}").chars().take(200).collect();
        return Err(refuse(format!(
            "calls {shown}, which is not on the allowlist of a PyTorch state dict"
        )));
    }
    Ok(Value::Global(module.into(), name.into()))
}

fn describe(heap: &Heap, v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(_) => "a bool".into(),
        Value::Int(_) => "an int".into(),
        Value::Float(_) => "a float".into(),
        Value::Str(_) => "a string".into(),
        Value::Bytes(_) => "bytes".into(),
        Value::Global(m, n) => format!("{m}.{n}"),
        Value::Ref(_) => match heap.node(v) {
            Some(Node::Tuple(_)) => "a tuple".into(),
            Some(Node::List(_)) => "a list".into(),
            Some(Node::Dict(_)) => "a dict".into(),
            Some(Node::Storage(_)) => "a storage".into(),
            Some(Node::Tensor(_)) => "a tensor".into(),
            None => "?".into(),
        },
    }
}

fn append(heap: &mut Heap, target: &Value, items: Vec<Value>, at: usize, op: &str) -> Result<()> {
    match target {
        Value::Ref(i) => match heap.nodes.get_mut(*i) {
            Some(Node::List(l)) => {
                l.extend(items);
                Ok(())
            }
            _ => Err(refuse(format!(
                "uses {op} on something that is not a list (offset {at})"
            ))),
        },
        _ => Err(refuse(format!(
            "uses {op} on something that is not a list (offset {at})"
        ))),
    }
}

/// Index of string keys of every dict: (dict node, key) → position in the dict.
type DictKeys = HashMap<(usize, Rc<str>), usize>;

fn set_items(
    heap: &mut Heap,
    keys: &mut DictKeys,
    target: &Value,
    items: Vec<Value>,
    at: usize,
) -> Result<()> {
    if !items.len().is_multiple_of(2) {
        return Err(format_err(format!(
            "pickle: SETITEMS at offset {at} has an odd number ({}) of keys and values",
            items.len()
        )));
    }
    let Value::Ref(i) = *target else {
        return Err(refuse(format!("sets items of a non-dict (offset {at})")));
    };
    let Some(Node::Dict(d)) = heap.nodes.get_mut(i) else {
        return Err(refuse(format!("sets items of a non-dict (offset {at})")));
    };
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        // Only string keys (all a state dict has) are de-duplicated; others are appended.
        if let Value::Str(s) = &k {
            match keys.get(&(i, s.clone())) {
                Some(&slot) => d[slot].1 = v,
                None => {
                    keys.insert((i, s.clone()), d.len());
                    d.push((k, v));
                }
            }
        } else {
            d.push((k, v));
        }
    }
    Ok(())
}

fn tuple_items<'h>(heap: &'h Heap, v: &Value, what: &str) -> Result<&'h [Value]> {
    match heap.node(v) {
        Some(Node::Tuple(t)) => Ok(t),
        _ => Err(format_err(format!("pickle: {what} is not a tuple"))),
    }
}

fn as_u64(v: &Value, what: &str) -> Result<u64> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(*i as u64),
        _ => Err(format_err(format!(
            "pickle: {what} is not a non-negative integer"
        ))),
    }
}

fn int_tuple(heap: &Heap, v: &Value, what: &str) -> Result<Vec<u64>> {
    let items = match heap.node(v) {
        Some(Node::Tuple(t)) | Some(Node::List(t)) => t,
        _ => {
            return Err(format_err(format!(
                "pickle: {what} is not a tuple of integers"
            )))
        }
    };
    if items.len() > super::MAX_DIMS {
        return Err(format_err(format!(
            "pickle: {what} has {} dimensions, more than {}",
            items.len(),
            super::MAX_DIMS
        )));
    }
    items.iter().map(|x| as_u64(x, what)).collect()
}

/// REDUCE / NEWOBJ of an allowlisted callable.
fn call(heap: &mut Heap, func: &Value, args: &Value, newobj: bool) -> Result<Value> {
    let Value::Global(module, name) = func else {
        return Err(refuse(format!(
            "calls {} (REDUCE on a non-global)",
            describe(heap, func)
        )));
    };
    let args_v = tuple_items(heap, args, &format!("the arguments of {module}.{name}"))?.to_vec();
    match (&**module, &**name) {
        ("collections", "OrderedDict") if args_v.is_empty() => heap.push(Node::Dict(Vec::new())),
        ("torch", "Size") if args_v.len() == 1 && !newobj => {
            let items = match heap.node(&args_v[0]) {
                Some(Node::Tuple(t)) | Some(Node::List(t)) => t.clone(),
                _ => return Err(format_err("pickle: torch.Size of a non-tuple")),
            };
            heap.push(Node::Tuple(items))
        }
        ("_codecs", "encode") if !newobj => match args_v.as_slice() {
            [Value::Str(s), Value::Str(enc)] if &**enc == "latin1" || &**enc == "latin-1" => {
                let b: Option<Vec<u8>> =
                    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
                b.map(|b| Value::Bytes(b.into()))
                    .ok_or_else(|| format_err("pickle: _codecs.encode of a non-latin-1 string"))
            }
            _ => Err(refuse(
                "calls _codecs.encode with arguments other than (str, 'latin1')",
            )),
        },
        ("torch._utils", "_rebuild_tensor_v2") | ("torch._utils", "_rebuild_tensor_v3")
            if !newobj =>
        {
            rebuild_tensor(heap, name, &args_v)
        }
        ("torch._utils", "_rebuild_parameter")
        | ("torch._utils", "_rebuild_parameter_with_state")
            if !newobj && !args_v.is_empty() =>
        {
            match heap.node(&args_v[0]) {
                Some(Node::Tensor(_)) => Ok(args_v[0].clone()),
                _ => Err(format_err(format!("pickle: {name} of a non-tensor"))),
            }
        }
        ("torch._tensor", "_rebuild_from_type_v2") if !newobj && args_v.len() >= 3 => {
            // Only a tensor rebuild may be wrapped (no recursion through nested wrappers).
            let inner = match &args_v[0] {
                Value::Global(m, n)
                    if &**m == "torch._utils" && n.starts_with("_rebuild_tensor_v") =>
                {
                    let inner_args =
                        tuple_items(heap, &args_v[2], "_rebuild_from_type_v2 args")?.to_vec();
                    rebuild_tensor(heap, n, &inner_args)?
                }
                other => {
                    return Err(refuse(format!(
                        "calls {} through torch._tensor._rebuild_from_type_v2",
                        describe(heap, other)
                    )))
                }
            };
            match heap.node(&inner) {
                Some(Node::Tensor(_)) => Ok(inner),
                _ => Err(format_err(
                    "pickle: _rebuild_from_type_v2 did not rebuild a tensor",
                )),
            }
        }
        _ => Err(refuse(format!(
            "calls {module}.{name} with {} arguments{}, which a PyTorch state dict never does",
            args_v.len(),
            if newobj { " (NEWOBJ)" } else { "" }
        ))),
    }
}

fn rebuild_tensor(heap: &mut Heap, name: &str, args: &[Value]) -> Result<Value> {
    let v3 = name == "_rebuild_tensor_v3";
    let min = if v3 { 7 } else { 6 };
    if args.len() < min || args.len() > min + 1 {
        return Err(format_err(format!(
            "pickle: {name} takes {min} or {} arguments, got {}",
            min + 1,
            args.len()
        )));
    }
    let storage = match &args[0] {
        Value::Ref(i) if matches!(heap.nodes.get(*i), Some(Node::Storage(_))) => *i,
        other => {
            return Err(format_err(format!(
                "pickle: {name}'s storage argument is {}, not a persistent storage",
                describe(heap, other)
            )))
        }
    };
    let storage_offset = as_u64(&args[1], "storage offset")?;
    let size = int_tuple(heap, &args[2], "tensor size")?;
    let stride = int_tuple(heap, &args[3], "tensor stride")?;
    if size.len() != stride.len() {
        return Err(format_err(format!(
            "pickle: tensor size {size:?} and stride {stride:?} differ in length"
        )));
    }
    let dtype = if v3 {
        match &args[6] {
            Value::Global(m, n) if &**m == "torch" && dtype_name(n).is_some() => {
                Some(n.to_string())
            }
            other => {
                return Err(format_err(format!(
                    "pickle: {name}'s dtype argument is {}, not a torch dtype",
                    describe(heap, other)
                )))
            }
        }
    } else {
        None
    };
    heap.push(Node::Tensor(Tensor {
        storage,
        storage_offset,
        size,
        stride,
        dtype,
    }))
}

fn persistent_load(heap: &mut Heap, pid: &Value, at: usize) -> Result<Value> {
    let items = match heap.node(pid) {
        Some(Node::Tuple(t)) => t.clone(),
        _ => {
            return Err(refuse(format!(
                "uses a persistent id that is not a tuple (BINPERSID at offset {at})"
            )))
        }
    };
    match items.first() {
        Some(Value::Str(s)) if &**s == "storage" => {}
        Some(Value::Str(s)) => {
            return Err(refuse(format!(
                "loads a persistent object of kind {:?} (BINPERSID at offset {at}); only 'storage' is supported (a pickled nn.Module?)",
                s.chars().take(50).collect::<String>()
            )))
        }
        _ => {
            return Err(refuse(format!(
                "uses a persistent id without a kind (BINPERSID at offset {at})"
            )))
        }
    }
    if items.len() != 5 {
        return Err(format_err(format!(
            "pickle: storage persistent id at offset {at} has {} fields, expected 5 ('storage', type, key, location, numel)",
            items.len()
        )));
    }
    let type_name = match &items[1] {
        Value::Global(m, n) if &**m == "torch" && storage_item_size(n).is_some() => n.to_string(),
        other => {
            return Err(format_err(format!(
                "pickle: storage type at offset {at} is {}, not a torch storage class",
                describe(heap, other)
            )))
        }
    };
    let key = match &items[2] {
        Value::Str(s) => s.to_string(),
        _ => {
            return Err(format_err(format!(
                "pickle: storage key at offset {at} is not a string"
            )))
        }
    };
    let numel = as_u64(&items[4], "storage numel")?;
    heap.push(Node::Storage(StorageRef {
        type_name,
        key,
        numel,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_dict() {
        // {'a': 1} protocol 2 with memo.
        let p = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s.";
        let u = unpickle(p).unwrap();
        match u.heap.node(&u.root) {
            Some(Node::Dict(d)) => assert_eq!(d, &vec![(Value::Str("a".into()), Value::Int(1))]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn repeated_key_replaces_and_many_keys_stay_linear() {
        let p = b"\x80\x02}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00aK\x02u.";
        let u = unpickle(p).unwrap();
        match u.heap.node(&u.root) {
            Some(Node::Dict(d)) => assert_eq!(d, &vec![(Value::Str("a".into()), Value::Int(2))]),
            other => panic!("{other:?}"),
        }
        // 200 000 distinct keys in one SETITEMS: must not be quadratic.
        let mut p = b"\x80\x02}(".to_vec();
        for k in 0..200_000u32 {
            p.push(b'X');
            let key = k.to_string();
            p.extend_from_slice(&(key.len() as u32).to_le_bytes());
            p.extend_from_slice(key.as_bytes());
            p.push(b'N');
        }
        p.extend_from_slice(b"u.");
        let t = std::time::Instant::now();
        let u = unpickle(&p).unwrap();
        assert!(t.elapsed().as_secs() < 5);
        assert!(matches!(u.heap.node(&u.root), Some(Node::Dict(d)) if d.len() == 200_000));
    }

    #[test]
    fn rebuild_from_type_wraps_only_tensor_rebuilds() {
        let e = unpickle(
            b"\x80\x02ctorch._tensor\n_rebuild_from_type_v2\nctorch._tensor\n_rebuild_from_type_v2\nN)\x87R.",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("through torch._tensor._rebuild_from_type_v2"),
            "{e}"
        );
    }

    #[test]
    fn refuses_os_system() {
        let p = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00lsR.";
        let e = unpickle(p).unwrap_err().to_string();
        assert!(
            e.contains("refusing to load: pickle calls os.system"),
            "{e}"
        );
    }
}
