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
