//! A [`ByteSource`] over a file, read with positioned reads (`pread`): the CLI never loads a
//! model file whole.

use spectralab_core::formats::ByteSource;
use spectralab_core::{Error, Result};
use std::fs::File;

/// A file opened for positioned reads; its length is fixed at open.
pub struct FileSource {
    file: File,
    len: u64,
    path: String,
}

impl FileSource {
    pub fn open(path: &str) -> std::result::Result<FileSource, String> {
        let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
        let meta = file.metadata().map_err(|e| format!("{path}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{path}: not a regular file"));
        }
        Ok(FileSource {
            file,
            len: meta.len(),
            path: path.into(),
        })
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|e| e > self.len) {
            return Err(Error::Io {
                what: format!(
                    "{}: read of {} bytes at {offset} past the end ({} bytes)",
                    self.path,
                    buf.len(),
                    self.len
                ),
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            self.file.read_exact_at(buf, offset).map_err(|e| Error::Io {
                what: format!("{}: {e} (at byte {offset})", self.path),
            })
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = &self.file;
            f.seek(SeekFrom::Start(offset)).map_err(|e| Error::Io {
                what: e.to_string(),
            })?;
            f.read_exact(buf).map_err(|e| Error::Io {
                what: e.to_string(),
            })
        }
    }
}

/// Whether a file name looks like part of a model (a weight file or a Hugging Face index).
fn is_model_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".index.json")
        || [
            ".safetensors",
            ".npy",
            ".npz",
            ".bin",
            ".pt",
            ".pth",
            ".ckpt",
            ".gguf",
        ]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// The files of a model named on the command line, opened for positioned reads: one file,
/// several files (shards), a folder (its model files and index), or a `*.index.json` (with the
/// model files beside it). Folders are listed in name order; nothing is read here.
pub fn model_files(
    args: &[String],
) -> std::result::Result<Vec<spectralab_core::session::NamedSource>, String> {
    let mut paths: Vec<String> = Vec::new();
    let list_dir =
        |dir: &std::path::Path, paths: &mut Vec<String>| -> std::result::Result<(), String> {
            let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut found: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path().to_string_lossy().into_owned())
                .filter(|p| is_model_file(p))
                .collect();
            found.sort();
            paths.extend(found);
            Ok(())
        };
    for a in args {
        let p = std::path::Path::new(a);
        if p.is_dir() {
            let before = paths.len();
            list_dir(p, &mut paths)?;
            if paths.len() == before {
                return Err(format!("{a}: the folder holds no model file (.safetensors, .npy, .npz, .bin, .pt, .gguf, *.index.json)"));
            }
        } else if a.to_ascii_lowercase().ends_with(".index.json") {
            paths.push(a.clone());
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut siblings = Vec::new();
            list_dir(dir, &mut siblings)?;
            paths.extend(siblings.into_iter().filter(|s| !s.ends_with(".index.json")));
        } else {
            paths.push(a.clone());
        }
    }
    paths.dedup();
    paths
        .into_iter()
        .map(|p| FileSource::open(&p).map(|f| (p, Box::new(f) as Box<dyn ByteSource>)))
        .collect()
}
