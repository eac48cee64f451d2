//! PyTorch ZIP checkpoints (`formats/torch.rs` + the restricted unpickler): fixtures written by
//! `tests/fixtures/torch/make_fixtures.py` in torch.save's exact layout, values compared with
//! the numpy arrays it wrote to `expected.npz`; malicious, truncated and mutated pickles refused
//! with clear errors and never a panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use spectralab_core::formats::{
    read_index, read_tensor, Dtype, FileFormat, ReadParams, Storage, TensorData, TensorIndex,
};
use spectralab_core::Error;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/torch/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn index(bytes: &[u8]) -> TensorIndex {
    read_index(&bytes, "model.pt").unwrap_or_else(|e| panic!("read_index: {e}"))
}

fn values(d: &TensorData) -> (Vec<usize>, Vec<f64>) {
    match d {
        TensorData::F32(a) => (
            a.shape().to_vec(),
            a.iter().map(|&x| f64::from(x)).collect(),
        ),
        TensorData::F64(a) => (a.shape().to_vec(), a.iter().copied().collect()),
    }
}

fn err_text(bytes: &[u8]) -> String {
    match read_index(&bytes, "model.pt") {
        Ok(idx) => panic!("expected an error, got {} tensors", idx.tensors.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn state_dict_index_lists_every_tensor_in_pickle_order() {
    let idx = index(&fixture("state_dict.pt"));
    assert_eq!(idx.format, FileFormat::Torch);
    let names: Vec<&str> = idx.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "fc1.weight",
            "fc1.bias",
            "fc2.weight",
            "fc3.weight",
            "fc4.weight",
            "emb.weight",
            "head.weight",
            "emb.rows23",
            "proj.weight_t",
            "proj.every_other",
            "param.weight",
            "steps"
        ]
    );
    let dt = |n: &str| idx.get(n).unwrap().dtype.clone();
    assert_eq!(dt("fc1.weight"), Dtype::F32);
    assert_eq!(dt("fc2.weight"), Dtype::F16);
    assert_eq!(dt("fc3.weight"), Dtype::BF16);
    assert_eq!(dt("fc4.weight"), Dtype::F64);
    assert_eq!(dt("steps"), Dtype::Other("I64".into()));
    assert_eq!(
        dt("proj.every_other"),
        Dtype::Other("F32 non-contiguous strides [6, 2]".into())
    );
    for t in &idx.tensors {
        assert_eq!(t.storage, Storage::Raw, "{}", t.name);
        assert!(!t.big_endian);
    }
    assert!(idx.get("proj.weight_t").unwrap().fortran_order);
    assert_eq!(idx.get("steps").unwrap().shape, Vec::<usize>::new());
    // Shared storage: tied weights are the same range; the view starts 8 elements in.
    let (emb, head, rows) = (
        idx.get("emb.weight").unwrap(),
        idx.get("head.weight").unwrap(),
        idx.get("emb.rows23").unwrap(),
    );
    assert_eq!((emb.offset, emb.byte_len), (head.offset, head.byte_len));
    assert_eq!(rows.offset, emb.offset + 8 * 4);
    assert_eq!(rows.byte_len, 2 * 4 * 4);
    // torch's 64-byte alignment of storage data.
    assert_eq!(emb.offset % 64, 0);
    assert!(idx
        .metadata
        .contains(&("torch_byteorder".into(), "little".into())));
    assert!(idx
        .metadata
        .contains(&("torch_archive_root".into(), "archive".into())));
}

#[test]
fn state_dict_values_equal_numpys() {
    let bytes = fixture("state_dict.pt");
    let idx = index(&bytes);
    let expected_bytes = fixture("expected.npz");
    let expected = index(&expected_bytes);
    let mut compared = 0;
    for t in &idx.tensors {
        if !t.dtype.is_supported() {
            continue;
        }
        let got = read_tensor(&bytes.as_slice(), t, &ReadParams::default())
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        let e = expected
            .get(&t.name)
            .unwrap_or_else(|| panic!("{} not in expected.npz", t.name));
        let want = read_tensor(&expected_bytes.as_slice(), e, &ReadParams::default()).unwrap();
        let (gs, gv) = values(&got);
        let (ws, wv) = values(&want);
        assert_eq!(gs, ws, "{} shape", t.name);
        for (k, (g, w)) in gv.iter().zip(&wv).enumerate() {
            // Storage values are exact in their dtype; f32 widening of F64 expected values.
            let tol = if t.dtype == Dtype::F64 {
                0.0
            } else {
                1e-7 * w.abs()
            };
            assert!((g - w).abs() <= tol, "{}[{k}]: {g} vs {w}", t.name);
        }
        compared += 1;
    }
    assert_eq!(compared, 10);
}

#[test]
fn non_contiguous_view_is_a_clear_error_naming_the_tensor() {
    let bytes = fixture("state_dict.pt");
    let idx = index(&bytes);
    let t = idx.get("proj.every_other").unwrap();
    let e = read_tensor(&bytes.as_slice(), t, &ReadParams::default()).unwrap_err();
    assert!(matches!(e, Error::UnsupportedDtype { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("proj.every_other") && msg.contains("non-contiguous"),
        "{msg}"
    );
}

#[test]
fn nested_checkpoint_is_flattened_with_dotted_names() {
    let bytes = fixture("nested.pt");
    let idx = index(&bytes);
    let names: Vec<&str> = idx.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["model.layer.weight"]);
    assert!(idx
        .metadata
        .contains(&("torch_archive_root".into(), "nested".into())));
    assert!(idx
        .metadata
        .contains(&("torch_non_tensor".into(), "epoch".into())));
    assert!(idx
        .metadata
        .contains(&("torch_non_tensor".into(), "opt.lr".into())));
    let d = read_tensor(&bytes.as_slice(), &idx.tensors[0], &ReadParams::default()).unwrap();
    assert_eq!(
        values(&d),
        (vec![2, 3], vec![-1.0, -0.75, -0.5, -0.25, 0.0, 0.25])
    );
}

#[test]
fn legacy_format_is_named() {
    let e = err_text(&fixture("legacy.pt"));
    assert!(
        e.contains("legacy torch.save format (PyTorch < 1.6) is not supported"),
        "{e}"
    );
}

#[test]
fn malicious_pickles_are_refused() {
    let cases = [
        ("os_system", "pickle calls posix.system"),
        ("os_system_global", "pickle calls os.system"),
        ("builtins_eval", "pickle calls __builtin__.eval"),
        ("builtins_eval_global", "pickle calls builtins.eval"),
        ("subprocess_popen", "Popen"),
        ("stack_global", "pickle calls posix.getcwd"),
        ("inst", "pickle calls os.system (INST"),
        ("obj", "pickle calls os.system"),
        ("build_list", "sets the state of a list"),
        ("reduce_non_global", "REDUCE on a non-global"),
        ("persid_module", "persistent"),
        (
            "load_from_bytes",
            "pickle calls torch.storage._load_from_bytes",
        ),
    ];
    for (name, want) in cases {
        let e = err_text(&fixture(&format!("malicious/{name}.pt")));
        assert!(e.contains("refusing to load"), "{name}: {e}");
        assert!(e.contains(want), "{name}: {e}");
        assert!(
            e.contains("archive/data.pkl"),
            "{name}: names the member: {e}"
        );
    }
}

// ------------------------------------------------------------ hand-made archives

/// A stored ZIP of `(name, data)` members (no alignment; the reader does not need it).
fn zip(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in records {
        let offset = out.len() as u32;
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&[0; 12]); // crc, sizes (not used by the reader)
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        let mut c = Vec::new();
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        c.extend_from_slice(&0u32.to_le_bytes()); // crc
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 8]);
        c.extend_from_slice(&[0; 4]);
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        central.push(c);
    }
    let cd_start = out.len() as u32;
    for c in &central {
        out.extend_from_slice(c);
    }
    let cd_size = out.len() as u32 - cd_start;
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(records.len() as u16).to_le_bytes());
    out.extend_from_slice(&(records.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn with_pickle(pkl: &[u8]) -> Vec<u8> {
    zip(&[("archive/data.pkl", pkl), ("archive/byteorder", b"little")])
}

/// `pkl` as `archive/data.pkl` next to storages `data/0`…`data/15` of 256 zero bytes each.
fn with_storages(pkl: &[u8]) -> Vec<u8> {
    let zeros = [0u8; 256];
    let names: Vec<String> = (0..16).map(|k| format!("archive/data/{k}")).collect();
    let mut records: Vec<(&str, &[u8])> = vec![("archive/data.pkl", pkl)];
    records.extend(names.iter().map(|n| (n.as_str(), &zeros[..])));
    zip(&records)
}

#[test]
fn truncated_garbage_deep_and_huge_pickles_get_clear_errors() {
    let good = b"\x80\x02}q\x00.".to_vec();
    assert_eq!(index(&with_pickle(&good)).tensors.len(), 0);
    let deep_lists = {
        let mut p = b"\x80\x02".to_vec();
        p.extend(std::iter::repeat_n(b']', 100_000));
        p.extend(std::iter::repeat_n(b'a', 99_999));
        p.push(b'.');
        p
    };
    let deep_marks = {
        let mut p = b"\x80\x02".to_vec();
        p.extend(std::iter::repeat_n(b'(', 200_000));
        p.push(b'.');
        p
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "ends before its STOP"),
        (
            "no stop",
            b"\x80\x02}q\x00".to_vec(),
            "ends before its STOP",
        ),
        (
            "garbage",
            b"\xff\xfe\xfd".to_vec(),
            "unknown or unsupported opcode",
        ),
        ("protocol 9", b"\x80\x09}.".to_vec(), "protocol 9"),
        (
            "huge BINUNICODE",
            b"\x80\x02X\xff\xff\xff\x7fab.".to_vec(),
            "more than the limit",
        ),
        (
            "BINUNICODE past end",
            b"\x80\x02X\x00\x01\x00\x00ab.".to_vec(),
            "truncated",
        ),
        (
            "huge LONG4",
            b"\x80\x02\x8b\xff\xff\xff\x7f\x00.".to_vec(),
            "more than the limit",
        ),
        (
            "LONG1 of 16 bytes",
            b"\x80\x02\x8a\x10AAAAAAAAAAAAAAAA.".to_vec(),
            "does not fit in 64 bits",
        ),
        (
            "undefined memo",
            b"\x80\x02h\x05.".to_vec(),
            "undefined entry 5",
        ),
        ("pop empty", b"\x80\x020.".to_vec(), "empty stack"),
        ("setitems no mark", b"\x80\x02}u.".to_vec(), "no MARK"),
        ("pop below mark", b"\x80\x02N(0.".to_vec(), "empty stack"),
        (
            "text persid",
            b"\x80\x02P1\n.".to_vec(),
            "text persistent id",
        ),
        ("ext", b"\x80\x02\x82\x01.".to_vec(), "extension registry"),
        (
            "tensor without storage",
            b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(K\x00K\x00)))\x89NtR.".to_vec(),
            "not a persistent storage",
        ),
        ("deep lists", deep_lists, "deeper than 64"),
        ("deep marks", deep_marks, "empty stack"),
    ];
    for (name, pkl, want) in cases {
        let e = err_text(&with_pickle(&pkl));
        assert!(e.contains(want), "{name}: {e}");
        assert!(e.len() < 600, "{name}: error stays short: {e}");
    }
}

#[test]
fn archive_level_errors_are_named() {
    let pid = |key: &str, numel: u8| {
        let mut p = b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX".to_vec();
        p.extend_from_slice(&(key.len() as u32).to_le_bytes());
        p.extend_from_slice(key.as_bytes());
        p.extend_from_slice(b"X\x03\x00\x00\x00cpuK");
        p.push(numel);
        p.extend_from_slice(b"tQK\x00K\x02K\x02\x86K\x02K\x01\x86\x89NtRs.");
        p
    };
    let data = [0u8; 16];
    // valid: a 2x2 f32 tensor
    let ok = zip(&[
        ("archive/data.pkl", &pid("0", 4)),
        ("archive/data/0", &data),
    ]);
    let idx = index(&ok);
    assert_eq!(idx.tensors[0].name, "w");
    assert_eq!(idx.tensors[0].shape, vec![2, 2]);
    // missing storage member
    let e = err_text(&zip(&[
        ("archive/data.pkl", &pid("7", 4)),
        ("archive/data/0", &data),
    ]));
    assert!(e.contains("no member `archive/data/7`"), "{e}");
    // storage shorter than declared
    let e = err_text(&zip(&[
        ("archive/data.pkl", &pid("0", 9)),
        ("archive/data/0", &data),
    ]));
    assert!(e.contains("declares 9 elements"), "{e}");
    // TorchScript
    let e = err_text(&zip(&[
        ("archive/data.pkl", &pid("0", 4)),
        ("archive/code/__torch__.py", b""),
        ("archive/data/0", &data),
    ]));
    assert!(e.contains("TorchScript"), "{e}");
    // big-endian byteorder is honoured
    let be = zip(&[
        ("archive/data.pkl", &pid("0", 4)),
        ("archive/byteorder", b"big"),
        (
            "archive/data/0",
            &[
                0x3f, 0x80, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0xbf, 0x80, 0, 0,
            ],
        ),
    ]);
    let idx = index(&be);
    assert!(idx.tensors[0].big_endian);
    let d = read_tensor(&be.as_slice(), &idx.tensors[0], &ReadParams::default()).unwrap();
    assert_eq!(values(&d).1, vec![1.0, 2.0, 0.0, -1.0]);
    // an npz is still an npz
    let npz = fixture("expected.npz");
    assert_eq!(index(&npz).format, FileFormat::Npz);
}

/// Deterministic byte mutations of the fixture: read_index/read_tensor return, never panic.
#[test]
fn mutated_fixtures_never_panic() {
    // Whole-archive mutations of the fixture, then mutations of its pickle alone (re-wrapped in
    // a valid ZIP so they reach the unpickler).
    let whole = fixture("state_dict.pt");
    let pkl = {
        // data.pkl is the first member: its data starts at byte 64 (torch's alignment) and ends
        // at the 16-byte data descriptor before the next local header.
        let next = 64
            + whole[64..]
                .windows(4)
                .position(|w| w == b"PK\x03\x04")
                .unwrap();
        whole[64..next - 16].to_vec()
    };
    assert_eq!((pkl[0], pkl[pkl.len() - 1]), (0x80, b'.'));
    assert_eq!(index(&with_storages(&pkl)).tensors.len(), 12);
    for (round, base) in [whole, pkl].into_iter().enumerate() {
        mutate_rounds(&base, round == 1);
    }
}

fn mutate_rounds(base: &[u8], wrap: bool) {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let params = ReadParams {
        max_tensor_bytes: 1 << 20,
        chunk_bytes: 64,
    };
    let start = Instant::now();
    let (mut ok, mut failed) = (0u32, 0u32);
    for iter in 0..10_000u32 {
        let mut b = base.to_vec();
        let n = 1 + (next() % 4) as usize;
        for _ in 0..n {
            let at = (next() % b.len() as u64) as usize;
            match next() % 4 {
                0 => b[at] = next() as u8,
                1 => b[at] ^= 1 << (next() % 8),
                2 => b[at] = [0, 0xff, 0x7f, 0x80][(next() % 4) as usize],
                _ => {
                    let cut = at.max(1);
                    b.truncate(cut);
                    break;
                }
            }
        }
        if wrap {
            b = with_storages(&b);
        }
        let r = catch_unwind(AssertUnwindSafe(|| {
            let Ok(idx) = read_index(&b.as_slice(), "m.pt") else {
                return false;
            };
            for t in &idx.tensors {
                let _ = read_tensor(&b.as_slice(), t, &params);
            }
            true
        }));
        match r {
            Ok(true) => ok += 1,
            Ok(false) => failed += 1,
            Err(_) => panic!("iteration {iter} panicked"),
        }
    }
    eprintln!(
        "{} mutations: {ok} indexed, {failed} refused, {:.2} s",
        if wrap { "pickle" } else { "archive" },
        start.elapsed().as_secs_f64()
    );
    assert!(ok > 0 && failed > 0, "ok {ok}, failed {failed}");
    assert!(start.elapsed().as_secs() < 30);
}
