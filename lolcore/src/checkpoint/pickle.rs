//! A restricted unpickler for the pickles inside `torch.save` files.
//!
//! It builds only what a checkpoint holds: tensors, (ordered) dicts, lists, tuples,
//! sets and primitives. Every `GLOBAL` is checked against a short allowlist (the
//! tensor/parameter rebuild functions, storage and dtype types, `OrderedDict`, `set`,
//! `_codecs.encode`); anything else is refused with an error that names the global.
//! Nothing is ever called or imported: the allowed functions are interpreted here.
//!
//! Hostile input: every length is checked against the bytes that remain before
//! anything is allocated, recursion in the caller is bounded, and containers are
//! shared (`Rc`) rather than copied, so `DUP`/`GET` cannot blow up memory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

pub(crate) type PResult<T> = std::result::Result<T, String>;

/// A storage that a persistent id names: resolved by the file format.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StorageRef {
    pub key: String,
    /// The storage's element type, as torch names it (`Float`, `BFloat16`, ...).
    pub torch_type: String,
    /// Elements in the storage (as the persistent id declares it).
    pub numel: usize,
}

/// A tensor as the pickle describes it: a strided view of a storage.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TensorRef {
    pub storage: StorageRef,
    pub offset: usize,
    pub shape: Vec<usize>,
    pub strides: Vec<usize>,
}

// Non-tensor payloads are read only through `Debug`, in error messages.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer too big for i64 (kept only to be reported).
    BigInt,
    Float(f64),
    Str(String),
    Bytes(Rc<Vec<u8>>),
    List(Rc<RefCell<Vec<Value>>>),
    Tuple(Rc<Vec<Value>>),
    Dict(Rc<RefCell<Vec<(Value, Value)>>>),
    /// An allowed global, by its dotted name.
    Global(String),
    Storage(Rc<StorageRef>),
    Tensor(Rc<TensorRef>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Global(_) => "global",
            Value::Storage(_) => "storage",
            Value::Tensor(_) => "tensor",
        }
    }
    fn items(&self) -> PResult<Vec<Value>> {
        match self {
            Value::Tuple(t) => Ok(t.as_ref().clone()),
            Value::List(l) => Ok(l.borrow().clone()),
            v => Err(format!("expected a tuple or list, found {}", v.kind())),
        }
    }
    fn as_usize(&self, what: &str) -> PResult<usize> {
        match self {
            Value::Int(i) if *i >= 0 => Ok(*i as usize),
            v => Err(format!("{what}: expected a non-negative int, found {v:?}")),
        }
    }
    fn usizes(&self, what: &str) -> PResult<Vec<usize>> {
        self.items()?.iter().map(|v| v.as_usize(what)).collect()
    }
}

/// The storage classes (`torch.FloatStorage`, ...) and dtypes (`torch.float32`) a
/// checkpoint may name, mapped to torch's element type names.
pub(crate) fn torch_type_of_global(name: &str) -> Option<&'static str> {
    Some(match name {
        "torch.FloatStorage" | "torch.float32" | "torch.float" => "Float",
        "torch.DoubleStorage" | "torch.float64" | "torch.double" => "Double",
        "torch.HalfStorage" | "torch.float16" | "torch.half" => "Half",
        "torch.BFloat16Storage" | "torch.bfloat16" => "BFloat16",
        "torch.LongStorage" | "torch.int64" | "torch.long" => "Long",
        "torch.IntStorage" | "torch.int32" | "torch.int" => "Int",
        "torch.ShortStorage" | "torch.int16" | "torch.short" => "Short",
        "torch.CharStorage" | "torch.int8" => "Char",
        "torch.ByteStorage" | "torch.uint8" => "Byte",
        "torch.BoolStorage" | "torch.bool" => "Bool",
        _ => return None,
    })
}

const ALLOWED_FUNCTIONS: &[&str] = &[
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._tensor._rebuild_from_type_v2",
    "torch.Tensor",
    "torch.nn.parameter.Parameter",
    "torch.Size",
    "builtins.set",
    "__builtin__.set",
    "builtins.frozenset",
    "_codecs.encode",
];

fn check_global(module: &str, name: &str) -> PResult<Value> {
    let full = format!("{module}.{name}");
    if ALLOWED_FUNCTIONS.contains(&full.as_str()) || torch_type_of_global(&full).is_some() {
        Ok(Value::Global(full))
    } else {
        Err(format!(
            "refused to load the global `{full}`: a checkpoint may only hold tensors, dicts, lists, tuples \
             and numbers, and lol never runs code from a file"
        ))
    }
}

/// Resolves a persistent id (`BINPERSID`) into a value, per file format.
pub(crate) type PersistentLoad<'a> = dyn FnMut(Value) -> PResult<Value> + 'a;

pub(crate) struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
}

impl<'a> Unpickler<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Unpickler { data, pos: 0, stack: Vec::new(), marks: Vec::new(), memo: HashMap::new() }
    }
    /// Bytes consumed so far (the legacy format has several pickles back to back).
    pub(crate) fn position(&self) -> usize {
        self.pos
    }
    fn take(&mut self, n: usize) -> PResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(|| {
            format!("pickle truncated: needs {n} bytes at offset {}, the data has {}", self.pos, self.data.len())
        })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn byte(&mut self) -> PResult<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> PResult<usize> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]) as usize)
    }
    fn u32(&mut self) -> PResult<usize> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn u64(&mut self) -> PResult<usize> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        usize::try_from(u64::from_le_bytes(a)).map_err(|_| "pickle: a length does not fit in memory".to_string())
    }
    fn line(&mut self) -> PResult<&'a str> {
        let rest = &self.data[self.pos..];
        let n = rest.iter().position(|&b| b == b'\n').ok_or("pickle truncated: a text line has no end")?;
        let s = std::str::from_utf8(&rest[..n]).map_err(|_| "pickle: a text line is not UTF-8")?;
        self.pos += n + 1;
        Ok(s)
    }
    fn utf8(&mut self, n: usize) -> PResult<String> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| "pickle: a string is not valid UTF-8".to_string())
    }
    fn pop(&mut self) -> PResult<Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(format!("pickle: stack underflow at offset {}", self.pos));
        }
        self.stack.pop().ok_or_else(|| "pickle: stack underflow".to_string())
    }
    fn top(&mut self) -> PResult<&mut Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(format!("pickle: stack underflow at offset {}", self.pos));
        }
        self.stack.last_mut().ok_or_else(|| "pickle: stack underflow".to_string())
    }
    fn pop_mark(&mut self) -> PResult<Vec<Value>> {
        let m = self.marks.pop().ok_or_else(|| format!("pickle: no MARK at offset {}", self.pos))?;
        Ok(self.stack.split_off(m))
    }
    fn memo_get(&self, i: u32) -> PResult<Value> {
        self.memo.get(&i).cloned().ok_or_else(|| format!("pickle: memo entry {i} is not set"))
    }
    fn memo_put(&mut self, i: u32) -> PResult<()> {
        let v = self.stack.last().cloned().ok_or("pickle: PUT on an empty stack")?;
        self.memo.insert(i, v);
        Ok(())
    }

    /// Runs until `STOP`; returns the pickled object.
    pub(crate) fn load(&mut self, persistent_load: &mut PersistentLoad<'_>) -> PResult<Value> {
        loop {
            let op = self.byte()?;
            match op {
                b'.' => return self.pop(),
                0x80 => {
                    let p = self.byte()?;
                    if p > 5 {
                        return Err(format!("pickle protocol {p} is not supported (0 to 5 are)"));
                    }
                }
                0x95 => {
                    self.take(8)?; // FRAME: a length hint only
                }
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.stack.push(v);
                }
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'J' => {
                    let b = self.take(4)?;
                    self.stack.push(Value::Int(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64));
                }
                b'K' => {
                    let b = self.byte()?;
                    self.stack.push(Value::Int(b as i64));
                }
                b'M' => {
                    let v = self.u16()?;
                    self.stack.push(Value::Int(v as i64));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a { self.byte()? as usize } else { self.u32()? };
                    let b = self.take(n)?;
                    self.stack.push(long_from_le(b));
                }
                b'I' | b'L' => {
                    let l = self.line()?.trim_end_matches('L');
                    let v = match l {
                        "00" => Value::Bool(false),
                        "01" => Value::Bool(true),
                        _ => l.parse::<i64>().map(Value::Int).unwrap_or(Value::BigInt),
                    };
                    self.stack.push(v);
                }
                b'F' => {
                    let l = self.line()?;
                    let f = l.trim().parse::<f64>().map_err(|_| format!("pickle: bad float {l:?}"))?;
                    self.stack.push(Value::Float(f));
                }
                b'G' => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.stack.push(Value::Float(f64::from_be_bytes(a)));
                }
                b'X' => {
                    let n = self.u32()?;
                    let s = self.utf8(n)?;
                    self.stack.push(Value::Str(s));
                }
                0x8c => {
                    let n = self.byte()? as usize;
                    let s = self.utf8(n)?;
                    self.stack.push(Value::Str(s));
                }
                0x8d => {
                    let n = self.u64()?;
                    let s = self.utf8(n)?;
                    self.stack.push(Value::Str(s));
                }
                b'V' => {
                    let l = self.line()?.to_string();
                    self.stack.push(Value::Str(l));
                }
                b'S' => {
                    let l = self.line()?;
                    let s = l.trim().trim_matches(|c| c == '\'' || c == '"').to_string();
                    self.stack.push(Value::Str(s));
                }
                b'T' | b'U' | b'B' | b'C' | 0x8e | 0x96 => {
                    let n = match op {
                        b'T' | b'B' => self.u32()?,
                        b'U' | b'C' => self.byte()? as usize,
                        _ => self.u64()?,
                    };
                    let b = self.take(n)?.to_vec();
                    // Python 2 strings (T, U) are text in practice: keys of old checkpoints.
                    let v = match (op, String::from_utf8(b)) {
                        (b'T' | b'U', Ok(s)) => Value::Str(s),
                        (_, Ok(s)) => Value::Bytes(Rc::new(s.into_bytes())),
                        (_, Err(e)) => Value::Bytes(Rc::new(e.into_bytes())),
                    };
                    self.stack.push(v);
                }
                0x98 => {} // READONLY_BUFFER: a no-op on a bytes value
                b')' => self.stack.push(Value::Tuple(Rc::new(Vec::new()))),
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::Tuple(Rc::new(items)));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.stack.push(Value::Tuple(Rc::new(items)));
                }
                b']' => self.stack.push(Value::List(Rc::new(RefCell::new(Vec::new())))),
                b'l' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::List(Rc::new(RefCell::new(items))));
                }
                b'}' => self.stack.push(Value::Dict(Rc::new(RefCell::new(Vec::new())))),
                b'd' => {
                    let items = self.pop_mark()?;
                    let d = pairs(items)?;
                    self.stack.push(Value::Dict(Rc::new(RefCell::new(d))));
                }
                0x8f => self.stack.push(Value::List(Rc::new(RefCell::new(Vec::new())))),
                0x91 => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::List(Rc::new(RefCell::new(items))));
                }
                b'a' => {
                    let v = self.pop()?;
                    append(self.top()?, vec![v])?;
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark()?;
                    append(self.top()?, items)?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    set_items(self.top()?, vec![(k, v)])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let p = pairs(items)?;
                    set_items(self.top()?, p)?;
                }
                b'g' => {
                    let i = self.line()?.parse::<u32>().map_err(|_| "pickle: bad GET index")?;
                    let v = self.memo_get(i)?;
                    self.stack.push(v);
                }
                b'h' => {
                    let i = self.byte()? as u32;
                    let v = self.memo_get(i)?;
                    self.stack.push(v);
                }
                b'j' => {
                    let i = self.u32()? as u32;
                    let v = self.memo_get(i)?;
                    self.stack.push(v);
                }
                b'p' => {
                    let i = self.line()?.parse::<u32>().map_err(|_| "pickle: bad PUT index")?;
                    self.memo_put(i)?;
                }
                b'q' => {
                    let i = self.byte()? as u32;
                    self.memo_put(i)?;
                }
                b'r' => {
                    let i = self.u32()? as u32;
                    self.memo_put(i)?;
                }
                0x94 => {
                    let i = u32::try_from(self.memo.len()).map_err(|_| "pickle: memo too large")?;
                    self.memo_put(i)?;
                }
                b'c' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    let g = check_global(&module, &name)?;
                    self.stack.push(g);
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module, name) {
                        (Value::Str(m), Value::Str(n)) => {
                            let g = check_global(&m, &n)?;
                            self.stack.push(g);
                        }
                        _ => return Err("pickle: STACK_GLOBAL needs two strings".into()),
                    }
                }
                b'R' => {
                    let args = self.pop()?;
                    let f = self.pop()?;
                    let v = reduce(f, args)?;
                    self.stack.push(v);
                }
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let v = reduce(cls, args)?;
                    self.stack.push(v);
                }
                b'b' => {
                    // BUILD sets an object's state (`_metadata` of a state dict, a
                    // parameter's attributes): nothing a weight depends on.
                    self.pop()?;
                    self.top()?;
                }
                b'P' => {
                    let id = Value::Str(self.line()?.to_string());
                    let v = persistent_load(id)?;
                    self.stack.push(v);
                }
                b'Q' => {
                    let id = self.pop()?;
                    let v = persistent_load(id)?;
                    self.stack.push(v);
                }
                b'i' | b'o' | 0x92 | 0x82..=0x84 | 0x97 => {
                    return Err(format!(
                        "refused pickle opcode 0x{op:02x} at offset {}: it builds arbitrary objects, which a \
                         checkpoint of tensors never needs",
                        self.pos - 1
                    ))
                }
                _ => return Err(format!("unknown pickle opcode 0x{op:02x} at offset {}", self.pos - 1)),
            }
        }
    }
}

fn long_from_le(b: &[u8]) -> Value {
    if b.is_empty() {
        return Value::Int(0);
    }
    if b.len() > 8 {
        // Representable only if the extra bytes are sign extension.
        let neg = b[b.len() - 1] & 0x80 != 0;
        let fill = if neg { 0xff } else { 0 };
        if b[8..].iter().any(|&x| x != fill) || ((b[7] & 0x80 != 0) != neg) {
            return Value::BigInt;
        }
        return long_from_le(&b[..8]);
    }
    let neg = b[b.len() - 1] & 0x80 != 0;
    let mut a = if neg { [0xffu8; 8] } else { [0u8; 8] };
    a[..b.len()].copy_from_slice(b);
    Value::Int(i64::from_le_bytes(a))
}

fn pairs(items: Vec<Value>) -> PResult<Vec<(Value, Value)>> {
    if !items.len().is_multiple_of(2) {
        return Err("pickle: a dict has an odd number of items".into());
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

fn append(target: &mut Value, items: Vec<Value>) -> PResult<()> {
    match target {
        Value::List(l) => {
            l.borrow_mut().extend(items);
            Ok(())
        }
        v => Err(format!("pickle: APPEND to a {}", v.kind())),
    }
}

fn set_items(target: &mut Value, items: Vec<(Value, Value)>) -> PResult<()> {
    match target {
        Value::Dict(d) => {
            let mut d = d.borrow_mut();
            for (k, v) in items {
                // A later value for the same key replaces the earlier one, as in Python.
                match d.iter_mut().find(|(ek, _)| key_eq(ek, &k)) {
                    Some(slot) => slot.1 = v,
                    None => d.push((k, v)),
                }
            }
            Ok(())
        }
        v => Err(format!("pickle: SETITEM on a {}", v.kind())),
    }
}

fn key_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        _ => false,
    }
}

fn arg(args: &[Value], i: usize, f: &str) -> PResult<Value> {
    args.get(i).cloned().ok_or_else(|| format!("{f}: expected at least {} arguments, got {}", i + 1, args.len()))
}

/// Interprets a call of an allowed global.
fn reduce(f: Value, args: Value) -> PResult<Value> {
    let name = match f {
        Value::Global(g) => g,
        v => return Err(format!("pickle: REDUCE of a {} (only allowed functions may be called)", v.kind())),
    };
    let a = args.items()?;
    match name.as_str() {
        "collections.OrderedDict" => match a.first() {
            None => Ok(Value::Dict(Rc::new(RefCell::new(Vec::new())))),
            Some(v) => {
                let mut d = Vec::new();
                for p in v.items()? {
                    let kv = p.items()?;
                    if kv.len() != 2 {
                        return Err("OrderedDict: items must be pairs".into());
                    }
                    d.push((kv[0].clone(), kv[1].clone()));
                }
                Ok(Value::Dict(Rc::new(RefCell::new(d))))
            }
        },
        "torch._utils._rebuild_tensor" | "torch._utils._rebuild_tensor_v2" => {
            let storage = match arg(&a, 0, &name)? {
                Value::Storage(s) => s,
                v => return Err(format!("{name}: the first argument is a {}, not a storage", v.kind())),
            };
            let offset = arg(&a, 1, &name)?.as_usize("storage offset")?;
            let shape = arg(&a, 2, &name)?.usizes("size")?;
            let strides = arg(&a, 3, &name)?.usizes("stride")?;
            if shape.len() != strides.len() {
                return Err(format!("{name}: size {shape:?} and stride {strides:?} differ in length"));
            }
            Ok(Value::Tensor(Rc::new(TensorRef { storage: storage.as_ref().clone(), offset, shape, strides })))
        }
        "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state" => match arg(&a, 0, &name)? {
            t @ Value::Tensor(_) => Ok(t),
            v => Err(format!("{name}: expected a tensor, found {}", v.kind())),
        },
        "torch._tensor._rebuild_from_type_v2" => {
            // (func, type, args, state): the tensor is func(*args).
            let func = arg(&a, 0, &name)?;
            let inner = arg(&a, 2, &name)?;
            reduce(func, inner)
        }
        "torch.Size" | "builtins.set" | "__builtin__.set" | "builtins.frozenset" => match a.first() {
            Some(v) => Ok(Value::List(Rc::new(RefCell::new(v.items()?)))),
            None => Ok(Value::List(Rc::new(RefCell::new(Vec::new())))),
        },
        "_codecs.encode" => match a.first() {
            // Protocol 2's spelling of bytes: encode(text, "latin1").
            Some(Value::Str(s)) => Ok(Value::Bytes(Rc::new(s.chars().map(|c| c as u32 as u8).collect()))),
            _ => Err("_codecs.encode: expected a string".into()),
        },
        "torch.Tensor" | "torch.nn.parameter.Parameter" => match a.first() {
            Some(t @ Value::Tensor(_)) => Ok(t.clone()),
            _ => Ok(Value::None),
        },
        other => Err(format!("refused to call `{other}`: it is a type, not a function a checkpoint calls")),
    }
}

/// Reads the persistent id tuple of a torch storage:
/// `('storage', storage_type, key, location, numel[, view_metadata])`.
pub(crate) fn storage_from_pid(pid: &Value) -> PResult<StorageRef> {
    let t = pid.items()?;
    match t.first() {
        Some(Value::Str(s)) if s == "storage" => {}
        _ => return Err(format!("unsupported persistent id {pid:?} (expected a 'storage' tuple)")),
    }
    let torch_type = match t.get(1) {
        Some(Value::Global(g)) => torch_type_of_global(g).ok_or_else(|| format!("storage of unknown type `{g}`"))?,
        v => return Err(format!("storage type: expected a torch storage class, found {v:?}")),
    };
    let key = match t.get(2) {
        Some(Value::Str(s)) => s.clone(),
        Some(Value::Int(i)) => i.to_string(),
        v => return Err(format!("storage key: expected a string, found {v:?}")),
    };
    let numel = t.get(4).ok_or("storage persistent id has no element count")?.as_usize("storage size")?;
    Ok(StorageRef { key, torch_type: torch_type.to_string(), numel })
}
