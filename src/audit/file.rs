//! The audit file: JSON lines, created mode 0600, each record one `write`
//! (so a concurrent writer cannot tear it) followed by a flush to disk
//! before the change it announces goes ahead.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Record, Sink};

pub struct FileSink {
    path: PathBuf,
    file: Mutex<File>,
}

impl FileSink {
    /// Opens (creating if need be, readable by its owner only) for appending.
    /// Fails before any change when the file cannot be written.
    pub fn open(path: &Path) -> Result<FileSink, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot open audit file {}: {e}", path.display()))?;
        Ok(FileSink {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }
}

impl Sink for FileSink {
    fn write(&self, _: &Record<'_>, line: &str) -> Result<(), String> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| "the audit file's lock is poisoned".to_string())?;
        let failed =
            |e: std::io::Error| format!("cannot write audit file {}: {e}", self.path.display());
        // One write: with O_APPEND the record lands whole at the end.
        let written = file.write(&bytes).map_err(failed)?;
        if written != bytes.len() {
            return Err(format!(
                "cannot write audit file {}: only {written} of {} bytes written",
                self.path.display(),
                bytes.len()
            ));
        }
        file.sync_data().map_err(failed)
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_file_is_created_for_its_owner_only_and_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let sink = FileSink::open(&path).unwrap();
        let record_line = "{\"phase\":\"intent\"}";
        let event = crate::system::AuditEvent {
            phase: "intent",
            system: crate::model::System::Aws,
            target: String::new(),
            principals: vec![],
            reason: String::new(),
            result: None,
            error: None,
            before: None,
            after: None,
        };
        let record = Record {
            time: String::new(),
            run_id: "r",
            now: String::new(),
            actor: None,
            override_reason: None,
            sequence: 1,
            event: &event,
        };
        sink.write(&record, record_line).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"earlier\":true}\n{\"phase\":\"intent\"}\n"
        );

        let fresh = dir.path().join("new.jsonl");
        FileSink::open(&fresh).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn an_unwritable_audit_file_fails_before_anything_happens() {
        assert!(FileSink::open(Path::new("/nonexistent/dir/audit.jsonl")).is_err());
    }
}
