//! GGUF reader and ggml dequantization: goldens from gguf-py (tests/goldens/gguf/make_goldens.py,
//! pinned in requirements.txt), adversarial headers, the layer walk, and (when
//! `SPECTRALAB_GEMMA_GGUF` points at it) the real Gemma 3 270M Q4_K_M file.

use std::path::PathBuf;

use spectralab_core::formats::{
    gguf_layer_order, read_gguf_header, read_gguf_rows, read_index, read_tensor, Dtype, FileFormat,
    GgmlType, GgufValue, ReadParams, TensorData, TensorIndex,
};
use spectralab_core::spectrum::analyze::{plan_source, AnalyzeParams};
use spectralab_core::Error;

fn goldens() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/goldens/gguf")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(goldens().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn f32_of(d: TensorData) -> ndarray::ArrayD<f32> {
    match d {
        TensorData::F32(a) => a,
        TensorData::F64(_) => panic!("GGUF tensors decode to f32"),
    }
}

/// Compares bit patterns; returns the first mismatch as a message.
fn assert_bits_equal(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits(),
            "{what}: first mismatch at element {i}: got {g:e} ({:#010x}), gguf-py {w:e} ({:#010x})",
            g.to_bits(),
            w.to_bits()
        );
    }
}

fn golden_arrays(npz: &[u8]) -> (TensorIndex, Vec<(String, ndarray::ArrayD<f32>)>) {
    let idx = read_index(&npz, "golden.npz").unwrap();
    let arrays = idx
        .tensors
        .iter()
        .map(|t| {
            let a = f32_of(read_tensor(&npz, t, &ReadParams::default()).unwrap());
            (t.name.clone(), a)
        })
        .collect();
    (idx, arrays)
}

#[test]
fn random_blocks_of_every_supported_type_match_gguf_py_bit_for_bit() {
    let file = read("random_blocks.gguf");
    let (_, want) = golden_arrays(&read("random_blocks_dequant.npz"));
    let idx = read_index(&file, "random_blocks.gguf").unwrap();
    assert_eq!(idx.format, FileFormat::Gguf);
    assert_eq!(idx.tensors.len(), 16);
    assert_eq!(want.len(), 16);
    for (name, w) in &want {
        let t = idx.get(name).unwrap_or_else(|| panic!("tensor {name}"));
        // Each tensor is named after its type.
        assert_eq!(t.dtype.name(), name);
        assert!(matches!(t.dtype, Dtype::Ggml(_)));
        assert!(t.dtype.is_supported());
        assert_eq!(t.shape, vec![2, 256], "{name}");
        let got = f32_of(read_tensor(&file, t, &ReadParams::default()).unwrap());
        assert_eq!(got.shape(), w.shape());
        assert_bits_equal(name, got.as_slice().unwrap(), w.as_slice().unwrap());
        // Tiny chunks (one block per read) give the same values.
        let small = ReadParams {
            chunk_bytes: 1,
            ..ReadParams::default()
        };
        let got = f32_of(read_tensor(&file, t, &small).unwrap());
        assert_bits_equal(name, got.as_slice().unwrap(), w.as_slice().unwrap());
        // Row range: only row 1.
        let mut row = vec![0f32; 256];
        read_gguf_rows(&file, t, 1..2, &mut row).unwrap();
        assert_bits_equal(name, &row, &w.as_slice().unwrap()[256..]);
    }
}

#[test]
fn tiny_file_metadata_shapes_and_values() {
    let file = read("tiny.gguf");
    let h = read_gguf_header(&file).unwrap();
    assert_eq!(h.version, 3);
    assert_eq!(h.architecture(), Some("llama"));
    assert_eq!(h.model_name(), Some("Tiny Test Model"));
    assert_eq!(h.file_type(), Some(15));
    assert_eq!(h.alignment, 64);
    assert_eq!(h.data_start % 64, 0);
    assert_eq!(
        h.get("tokenizer.ggml.tokens"),
        Some(&GgufValue::Array {
            elem: "string",
            len: 200
        })
    );
    assert_eq!(h.get("llama.block_count"), Some(&GgufValue::U32(11)));
    assert_eq!(
        h.get("tokenizer.ggml.add_bos_token"),
        Some(&GgufValue::Bool(true))
    );
    assert_eq!(h.split(), None);
    let mix = h.quantization_mix();
    assert_eq!(mix[0], (GgmlType::F32, 2));
    assert_eq!(mix.iter().map(|m| m.1).sum::<usize>(), 9);
    // ne innermost first; the index shape is reversed.
    let embd = h
        .tensors
        .iter()
        .find(|t| t.name == "token_embd.weight")
        .unwrap();
    assert_eq!(embd.ne, vec![64, 10]);

    let idx = read_index(&file, "").unwrap();
    let meta = |k: &str| {
        idx.metadata
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(meta("general.architecture").as_deref(), Some("llama"));
    assert_eq!(
        meta("tokenizer.ggml.tokens").as_deref(),
        Some("[200 × string]")
    );
    assert_eq!(meta("gguf.alignment").as_deref(), Some("64"));
    let mix = meta("gguf.quantization_mix").unwrap();
    assert!(mix.starts_with("F32:2, "), "{mix}");
    assert!(mix.contains("IQ2_XXS:1"), "{mix}");

    let shape = |n: &str| idx.get(n).unwrap().shape.clone();
    assert_eq!(shape("token_embd.weight"), vec![10, 64]);
    assert_eq!(shape("blk.2.ffn_up_exps.weight"), vec![3, 2, 32]);
    assert_eq!(shape("blk.2.attn_norm.weight"), vec![256]);

    let (_, want) = golden_arrays(&read("tiny_dequant.npz"));
    assert_eq!(want.len(), 8);
    for (name, w) in &want {
        let t = idx.get(name).unwrap();
        let got = f32_of(read_tensor(&file, t, &ReadParams::default()).unwrap());
        assert_eq!(got.shape(), w.shape(), "{name}");
        assert_bits_equal(name, got.as_slice().unwrap(), w.as_slice().unwrap());
    }
    // The IQ2_XXS tensor is listed with its type but not read.
    let iq2 = idx.get("blk.0.attn_v.weight").unwrap();
    assert_eq!(iq2.dtype.name(), "IQ2_XXS");
    assert!(!iq2.dtype.is_supported());
    let err = read_tensor(&file, iq2, &ReadParams::default()).unwrap_err();
    assert!(
        err.to_string().contains("unsupported GGUF type IQ2_XXS"),
        "{err}"
    );
}

#[test]
fn layer_walk_orders_by_block_number_and_skips_unsupported_types() {
    let names = [
        "blk.10.attn_q.weight",
        "token_embd.weight",
        "blk.2.attn_q.weight",
        "output.weight",
        "blk.0.x",
    ];
    assert_eq!(gguf_layer_order(&names), vec![1, 4, 2, 0, 3]);

    let file = read("tiny.gguf");
    let (idx, plans) = plan_source(&file, "tiny.gguf", &AnalyzeParams::default()).unwrap();
    let walked: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        walked,
        vec![
            "token_embd.weight",
            "blk.0.attn_k.weight",
            "blk.0.attn_v.weight",
            "blk.2.attn_q.weight",
            "blk.2.attn_norm.weight",
            "blk.2.ffn_up_exps.weight",
            "blk.10.attn_q.weight",
            "output_norm.weight",
            "output.weight",
        ]
    );
    for p in &plans {
        // plan.index points at the right tensor of the index.
        assert_eq!(idx.tensors[p.index].name, p.name);
    }
    let skip = |n: &str| plans.iter().find(|p| p.name == n).unwrap().skip.clone();
    assert_eq!(
        skip("blk.0.attn_v.weight").as_deref(),
        Some("unsupported GGUF type IQ2_XXS")
    );
    let ids: Vec<usize> = plans.iter().map(|p| p.layer_id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

// ---------------------------------------------------------------- adversarial

/// A hand-made GGUF header.
struct Gguf {
    out: Vec<u8>,
}

impl Gguf {
    fn new(version: u32, tensors: u64, kvs: u64) -> Self {
        let mut out = b"GGUF".to_vec();
        out.extend(version.to_le_bytes());
        out.extend(tensors.to_le_bytes());
        out.extend(kvs.to_le_bytes());
        Gguf { out }
    }
    fn str(mut self, s: &str) -> Self {
        self.out.extend((s.len() as u64).to_le_bytes());
        self.out.extend(s.as_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.out.extend(v.to_le_bytes());
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.out.extend(v.to_le_bytes());
        self
    }
    /// A tensor info.
    fn tensor(self, name: &str, ne: &[u64], ty: u32, offset: u64) -> Self {
        let mut g = self.str(name).u32(ne.len() as u32);
        for &d in ne {
            g = g.u64(d);
        }
        g.u32(ty).u64(offset)
    }
    /// Pads to 32 and appends `data` zero bytes.
    fn data(mut self, data: usize) -> Vec<u8> {
        while !self.out.len().is_multiple_of(32) {
            self.out.push(0);
        }
        self.out.extend(std::iter::repeat_n(0u8, data));
        self.out
    }
}

fn format_error(bytes: &[u8]) -> String {
    match read_index(&bytes, "x.gguf") {
        Err(e @ Error::Format { .. }) => e.to_string(),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn adversarial_headers_get_clear_errors() {
    // A valid base: one Q8_0 tensor of 2 × 32.
    let ok = Gguf::new(3, 1, 0)
        .tensor("w.weight", &[32, 2], 8, 0)
        .data(68);
    let idx = read_index(&ok, "").unwrap();
    assert_eq!(idx.tensors[0].shape, vec![2, 32]);
    assert_eq!(idx.tensors[0].byte_len, 68);
    let v2 = Gguf::new(2, 1, 0)
        .tensor("w.weight", &[32, 2], 8, 0)
        .data(68);
    assert!(read_index(&v2, "").is_ok());

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated magic", b"GGU".to_vec(), "4-byte magic"),
        ("v1", Gguf::new(1, 0, 0).data(0), "version 1"),
        (
            "big-endian",
            {
                let mut b = Gguf::new(3, 0, 0).data(0);
                b[4..8].copy_from_slice(&3u32.to_be_bytes());
                b
            },
            "big-endian",
        ),
        ("v9", Gguf::new(9, 0, 0).data(0), "version 9"),
        (
            "lying kv count",
            Gguf::new(3, 0, u64::MAX).data(0),
            "declares 18446744073709551615 metadata key/values",
        ),
        (
            "lying tensor count",
            Gguf::new(3, u64::MAX, 0).data(0),
            "declares 18446744073709551615 tensors",
        ),
        (
            "huge key length",
            // (16 bytes after the length: room for the one key/value the header declares)
            Gguf::new(3, 0, 1).u64(u64::MAX).data(16),
            "limit",
        ),
        (
            "huge string value",
            Gguf::new(3, 0, 1).str("k").u32(8).u64(1 << 40).data(0),
            "truncated",
        ),
        (
            "huge string value overflowing",
            Gguf::new(3, 0, 1).str("k").u32(8).u64(u64::MAX).data(0),
            "truncated",
        ),
        (
            "array of 2^62 strings",
            Gguf::new(3, 0, 1)
                .str("k")
                .u32(9)
                .u32(8)
                .u64(1 << 62)
                .data(64),
            "more than",
        ),
        (
            "array of 2^62 u64",
            Gguf::new(3, 0, 1)
                .str("k")
                .u32(9)
                .u32(10)
                .u64(1 << 62)
                .data(64),
            "truncated",
        ),
        (
            "nested arrays",
            Gguf::new(3, 0, 1)
                .str("k")
                .u32(9)
                .u32(9)
                .u64(1)
                .u32(9)
                .u64(1)
                .u32(0)
                .u64(0)
                .data(64),
            "nested",
        ),
        (
            "unknown value type",
            Gguf::new(3, 0, 1).str("k").u32(13).data(8),
            "unknown value type 13",
        ),
        (
            "bool 7",
            Gguf::new(3, 0, 1)
                .str("k")
                .u32(7)
                .data(1)
                .iter()
                .map(|_| 7)
                .collect(),
            "GGUF",
        ),
        (
            "duplicate key",
            Gguf::new(3, 0, 2)
                .str("k")
                .u32(4)
                .u32(1)
                .str("k")
                .u32(4)
                .u32(1)
                .data(0),
            "twice",
        ),
        (
            "alignment 48",
            Gguf::new(3, 0, 1)
                .str("general.alignment")
                .u32(4)
                .u32(48)
                .data(0),
            "power of two",
        ),
        (
            "alignment 0",
            Gguf::new(3, 0, 1)
                .str("general.alignment")
                .u32(4)
                .u32(0)
                .data(0),
            "power of two",
        ),
        (
            "alignment as u64",
            Gguf::new(3, 0, 1)
                .str("general.alignment")
                .u32(10)
                .u64(32)
                .data(0),
            "power of two",
        ),
        (
            "misaligned offset",
            Gguf::new(3, 1, 0)
                .tensor("w.weight", &[32, 2], 8, 4)
                .data(100),
            "not a multiple of the alignment",
        ),
        (
            "ne0 not a block multiple",
            Gguf::new(3, 1, 0)
                .tensor("w.weight", &[31, 2], 8, 0)
                .data(100),
            "block size",
        ),
        (
            "5 dims",
            Gguf::new(3, 1, 0)
                .tensor("w.weight", &[1, 1, 1, 1, 1], 0, 0)
                .data(100),
            "n_dims is 5",
        ),
        (
            "0 dims",
            Gguf::new(3, 1, 0).tensor("w.weight", &[], 0, 0).data(100),
            "n_dims is 0",
        ),
        (
            "negative dim",
            Gguf::new(3, 1, 0)
                .tensor("w.weight", &[32, u64::MAX], 8, 0)
                .data(100),
            "negative",
        ),
        (
            "dims overflow",
            Gguf::new(3, 1, 0)
                .tensor("w.weight", &[1 << 40, 1 << 40], 0, 0)
                .data(100),
            "overflow",
        ),
        (
            "data past the end",
            Gguf::new(3, 1, 0)
                .tensor("w.weight", &[32, 2], 8, 0)
                .data(67),
            "past the end",
        ),
        (
            "offset past the end",
            Gguf::new(3, 1, 0)
                .tensor("w.weight", &[32, 2], 8, u64::MAX - 31)
                .data(68),
            "GGUF tensor `w.weight`",
        ),
        (
            "overlap",
            Gguf::new(3, 2, 0)
                .tensor("a.weight", &[32, 2], 8, 0)
                .tensor("b.weight", &[32, 2], 8, 32)
                .data(200),
            "overlap",
        ),
        (
            "duplicate tensor",
            Gguf::new(3, 2, 0)
                .tensor("a.weight", &[32], 0, 0)
                .tensor("a.weight", &[32], 0, 128)
                .data(256),
            "twice",
        ),
        (
            "invalid utf-8 name",
            {
                let mut g = Gguf::new(3, 1, 0).tensor("a.weight", &[32], 0, 0).data(128);
                g[32] = 0xff; // first byte of the name (24-byte fixed header + 8-byte length)
                g
            },
            "UTF-8",
        ),
    ];
    for (what, bytes, needle) in cases {
        let msg = format_error(&bytes);
        assert!(msg.contains(needle), "{what}: `{msg}` lacks `{needle}`");
    }
}

#[test]
fn unknown_ggml_type_is_listed_and_refused_per_tensor() {
    let b = Gguf::new(3, 2, 0)
        .tensor("odd.weight", &[32, 2], 99, 0)
        .tensor("w.weight", &[32, 2], 8, 0)
        .data(68);
    let idx = read_index(&b, "").unwrap();
    let odd = idx.get("odd.weight").unwrap();
    assert_eq!(odd.dtype, Dtype::Ggml(GgmlType::Unknown(99)));
    let err = read_tensor(&b, odd, &ReadParams::default()).unwrap_err();
    assert!(err.to_string().contains("ggml type 99"), "{err}");
    // The rest of the file still reads.
    let w = idx.get("w.weight").unwrap();
    let a = f32_of(read_tensor(&b, w, &ReadParams::default()).unwrap());
    assert_eq!(a.shape(), &[2, 32]);
}

#[test]
fn row_reads_check_their_arguments() {
    let file = read("tiny.gguf");
    let idx = read_index(&file, "").unwrap();
    let t = idx.get("blk.10.attn_q.weight").unwrap();
    let mut out = vec![0f32; 256];
    assert!(read_gguf_rows(&file, t, 4..5, &mut out).is_err());
    assert!(read_gguf_rows(&file, t, 0..2, &mut out).is_err());
    let mut none: Vec<f32> = vec![];
    read_gguf_rows(&file, t, 2..2, &mut none).unwrap();
    // A non-GGUF entry is refused.
    let mut e = t.clone();
    e.dtype = Dtype::F32;
    assert!(read_gguf_rows(&file, &e, 0..1, &mut out).is_err());
    // An entry whose byte length lies.
    let mut e = t.clone();
    e.byte_len -= 1;
    assert!(read_gguf_rows(&file, &e, 0..1, &mut out).is_err());
    // max_tensor_bytes is honoured before allocating.
    let p = ReadParams {
        max_tensor_bytes: 100,
        ..ReadParams::default()
    };
    assert!(matches!(
        read_tensor(&file, t, &p),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn every_truncation_and_byte_flip_of_a_real_file_is_handled_without_panic() {
    let file = read("tiny.gguf");
    let h = read_gguf_header(&file).unwrap();
    let small = ReadParams {
        max_tensor_bytes: 1 << 20,
        ..ReadParams::default()
    };
    let try_all = |bytes: &[u8]| {
        if let Ok(idx) = read_index(&bytes, "x.gguf") {
            for t in &idx.tensors {
                let _ = read_tensor(&bytes, t, &small);
            }
        }
    };
    for n in 0..file.len() {
        let r = read_index(&&file[..n], "x.gguf");
        assert!(r.is_err(), "prefix of {n} bytes accepted");
    }
    let header = h.data_start as usize;
    for i in 0..header {
        for v in [0x00u8, 0xff, 0x80, file[i] ^ 0x01] {
            let mut b = file.clone();
            b[i] = v;
            try_all(&b);
        }
    }
}

// ---------------------------------------------------------------- the real model

#[test]
fn gemma3_270m_q4_k_m_sums_match_gguf_py() {
    let Ok(path) = std::env::var("SPECTRALAB_GEMMA_GGUF") else {
        eprintln!(
            "note: SPECTRALAB_GEMMA_GGUF is unset: skipping the Gemma 3 270M Q4_K_M test \
             (fetch it with `bash tests/goldens/gguf/fetch_gemma.sh`, which prints the path)"
        );
        return;
    };
    let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let golden: serde_json::Value =
        serde_json::from_slice(&read("gemma_sums.json")).expect("gemma_sums.json");
    let t0 = std::time::Instant::now();
    let h = read_gguf_header(&file).unwrap();
    let idx = read_index(&file, &path).unwrap();
    eprintln!(
        "gemma: header + index of {} tensors in {:.3} s (data starts at {})",
        idx.tensors.len(),
        t0.elapsed().as_secs_f64(),
        h.data_start
    );
    let meta = &golden["meta"];
    assert_eq!(h.architecture(), meta["architecture"].as_str());
    assert_eq!(h.file_type(), meta["file_type"].as_u64());
    assert_eq!(h.model_name(), meta["name"].as_str());
    let want = golden["tensors"].as_array().unwrap();
    assert_eq!(idx.tensors.len(), want.len());
    let t0 = std::time::Instant::now();
    for (t, w) in idx.tensors.iter().zip(want) {
        assert_eq!(t.name, w["name"].as_str().unwrap());
        assert_eq!(t.dtype.name(), w["type"].as_str().unwrap(), "{}", t.name);
        let shape: Vec<usize> = w["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(t.shape, shape, "{}", t.name);
        let ne0 = *shape.last().unwrap();
        let rows: usize = shape[..shape.len() - 1].iter().product();
        // Stream by row blocks of ≤ 4096 rows (as a Gram accumulation would).
        let (mut sum, mut sum_abs, mut sum_sq) = (0f64, 0f64, 0f64);
        let mut buf = vec![0f32; 4096.min(rows) * ne0];
        let mut r = 0;
        let mut first = Vec::new();
        let mut last = Vec::new();
        while r < rows {
            let k = 4096.min(rows - r);
            let out = &mut buf[..k * ne0];
            read_gguf_rows(&file, t, r..r + k, out).unwrap();
            if r == 0 {
                first = out[..8.min(ne0)].iter().map(|v| v.to_bits()).collect();
            }
            if r + k == rows {
                let s = (k - 1) * ne0;
                last = out[s..s + 8.min(ne0)].iter().map(|v| v.to_bits()).collect();
            }
            for &v in out.iter() {
                let v = v as f64;
                sum += v;
                sum_abs += v.abs();
                sum_sq += v * v;
            }
            r += k;
        }
        let bits = |k: &str| -> Vec<u32> {
            w[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect()
        };
        assert_eq!(first, bits("first_row_bits"), "{}: first row", t.name);
        assert_eq!(last, bits("last_row_bits"), "{}: last row", t.name);
        // numpy sums pairwise, we sum sequentially: both within n·ε·Σ|x| of the exact sum.
        let n = (rows * ne0) as f64;
        let tol = 4.0 * n * f64::EPSILON * sum_abs + 1e-30;
        let close = |got: f64, want: f64, what: &str| {
            assert!(
                (got - want).abs() <= tol.max(4.0 * n * f64::EPSILON * want.abs()),
                "{}: {what} {got} vs gguf-py {want} (tolerance {tol:e})",
                t.name
            );
        };
        close(sum, w["sum"].as_f64().unwrap(), "sum");
        close(sum_abs, w["sum_abs"].as_f64().unwrap(), "sum |x|");
        let sq_tol = 4.0 * n * f64::EPSILON * sum_sq;
        assert!(
            (sum_sq - w["sum_sq"].as_f64().unwrap()).abs() <= sq_tol,
            "{}: sum x² {sum_sq} vs {}",
            t.name,
            w["sum_sq"]
        );
    }
    eprintln!(
        "gemma: dequantized all {} tensors by row blocks in {:.2} s",
        idx.tensors.len(),
        t0.elapsed().as_secs_f64()
    );
    // Two whole-tensor reads agree with the row reads (one per quantized family).
    for name in ["blk.0.attn_q.weight", "blk.0.ffn_down.weight"] {
        let t = idx.get(name).unwrap();
        let a = f32_of(read_tensor(&file, t, &ReadParams::default()).unwrap());
        let mut rows = vec![0f32; a.len()];
        read_gguf_rows(&file, t, 0..t.shape[0], &mut rows).unwrap();
        assert_bits_equal(name, a.as_slice().unwrap(), &rows);
    }
}

#[test]
fn split_shards_are_recognised_and_reported() {
    let mut g = Gguf::new(3, 1, 3).str("split.no").u32(2);
    g.out.extend(1u16.to_le_bytes());
    g = g.str("split.count").u32(2);
    g.out.extend(3u16.to_le_bytes());
    g = g.str("split.tensors.count").u32(5).u32(5);
    let b = g.tensor("blk.3.attn_q.weight", &[32, 2], 8, 0).data(68);
    let h = read_gguf_header(&b).unwrap();
    assert_eq!(h.split(), Some((1, 3, Some(5))));
    let idx = read_index(&b, "m-00002-of-00003.gguf").unwrap();
    let note = idx
        .metadata
        .iter()
        .find(|(k, _)| k == "gguf.split")
        .map(|(_, v)| v.as_str())
        .unwrap();
    assert!(
        note.starts_with("shard 2 of 3") && note.contains("holds 1 of the 5 tensors"),
        "{note}"
    );
}
