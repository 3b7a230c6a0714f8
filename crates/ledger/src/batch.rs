//! The batch API's durable state in the ledger file: uploaded and produced files
//! (`batch_files`), batch jobs (`batch_jobs`) and one row per input line (`batch_lines`), whose
//! state moves from `pending` to `ok` or `failed` exactly once, so a restarted gateway runs only
//! the lines still pending (idempotent per line, hence per `custom_id`).
//!
//! Owns the SQL only. What a status means, which transitions are allowed and the JSON shapes
//! of files and batches belong to the `switchyard-batch` crate; must never know HTTP.

use crate::{LedgerError, SqliteStore};
use rusqlite::{OptionalExtension, params};
use std::path::Path;

mod rows;
pub use rows::{Counts, FileRow, JobRow, LineState, NewLine, PendingLine, Produced, Stamp, Stamps};

/// The batch tables of one ledger file (opened, and migrated, like the ledger itself).
pub struct Store {
    ledger: SqliteStore,
}

const JOB_COLUMNS: &str = "id, owner, endpoint, input_file_id, completion_window, metadata, status, output_file_id, error_file_id, created_at, expires_at, in_progress_at, finalizing_at, completed_at, failed_at, cancelling_at, cancelled_at, expired_at, errors";

/// Statuses of a batch that still has work (or a status change) ahead of it.
const UNFINISHED: &str = "('validating','in_progress','finalizing','cancelling')";

impl Store {
    /// Opens the batch tables of the ledger file at `path`. For a PostgreSQL ledger (a
    /// `postgres://` URL) the batch state stays in SQLite, in `./switchyard-batch.db`: the
    /// batch tables have no PostgreSQL backend yet.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        let file = match crate::Location::from(path) {
            crate::Location::Sqlite(p) => p,
            crate::Location::Postgres(_) => "switchyard-batch.db".into(),
        };
        Ok(Store {
            ledger: SqliteStore::open(&file)?,
        })
    }

    pub fn in_memory() -> Result<Self, LedgerError> {
        Ok(Store {
            ledger: SqliteStore::in_memory()?,
        })
    }

    fn conn(&self) -> &rusqlite::Connection {
        self.ledger.connection()
    }

    pub fn put_file(&self, row: &FileRow, content: &[u8]) -> Result<(), LedgerError> {
        self.conn().execute(
            "INSERT INTO batch_files (id, owner, purpose, filename, bytes, created_at, content) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            params![row.id, row.owner, row.purpose, row.filename, row.bytes as i64, row.created_at, content],
        )?;
        Ok(())
    }

    pub fn file(&self, id: &str) -> Result<Option<FileRow>, LedgerError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, owner, purpose, filename, bytes, created_at FROM batch_files WHERE id = ?1",
                params![id],
                |r| {
                    Ok(FileRow {
                        id: r.get(0)?,
                        owner: r.get(1)?,
                        purpose: r.get(2)?,
                        filename: r.get(3)?,
                        bytes: r.get::<_, i64>(4)?.max(0) as u64,
                        created_at: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn file_content(&self, id: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT content FROM batch_files WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// True when the file existed.
    pub fn delete_file(&self, id: &str) -> Result<bool, LedgerError> {
        Ok(self
            .conn()
            .execute("DELETE FROM batch_files WHERE id = ?1", params![id])?
            > 0)
    }

    /// Stores a new job and all its lines atomically.
    pub fn create_job(&mut self, job: &JobRow, lines: &[NewLine]) -> Result<(), LedgerError> {
        let tx = self.ledger.connection_mut().transaction()?;
        tx.execute(
            "INSERT INTO batch_jobs (id, owner, seq, endpoint, input_file_id, completion_window, metadata, status, created_at, expires_at, errors)
             VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM batch_jobs), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![job.id, job.owner, job.endpoint, job.input_file_id, job.completion_window, job.metadata, job.status, job.created_at, job.expires_at, job.errors],
        )?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO batch_lines (batch_id, line, custom_id, state, body, result) VALUES (?1,?2,?3,?4,?5,?6)",
            )?;
            for l in lines {
                ins.execute(params![
                    job.id,
                    l.line as i64,
                    l.custom_id,
                    l.state.as_str(),
                    l.body,
                    l.result
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn job(&self, id: &str) -> Result<Option<JobRow>, LedgerError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM batch_jobs WHERE id = ?1");
        let job = self
            .conn()
            .query_row(&sql, params![id], row_to_job)
            .optional()?;
        job.map(|j| self.with_counts(j)).transpose()
    }

    /// Jobs newest first, `owner` `Some(o)` restricting to one owner's; `after` is the id of
    /// the last job of the previous page.
    pub fn list_jobs(
        &self,
        owner: Option<Option<&str>>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JobRow>, LedgerError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM batch_jobs
             WHERE (?1 = 0 OR owner IS ?2)
               AND seq < COALESCE((SELECT seq FROM batch_jobs WHERE id = ?3), 9223372036854775807)
             ORDER BY seq DESC LIMIT ?4"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map(
            params![owner.is_some(), owner.flatten(), after, limit as i64],
            row_to_job,
        )?;
        let jobs = rows.collect::<Result<Vec<_>, _>>()?;
        jobs.into_iter().map(|j| self.with_counts(j)).collect()
    }

    /// Ids of the jobs a restart must pick up again.
    pub fn unfinished_jobs(&self) -> Result<Vec<String>, LedgerError> {
        let sql = format!("SELECT id FROM batch_jobs WHERE status IN {UNFINISHED} ORDER BY seq");
        let mut stmt = self.conn().prepare(&sql)?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<Result<Vec<_>, _>>()?)
    }

    /// Moves a job to `to`'s status, stamping the time, only from one of `from`; true when
    /// it moved (a job already past those statuses is left alone).
    pub fn transition(
        &self,
        id: &str,
        from: &[&str],
        to: Stamp,
        now: i64,
    ) -> Result<bool, LedgerError> {
        let allowed = serde_json::to_string(from).unwrap_or_else(|_| "[]".into());
        let sql = format!(
            "UPDATE batch_jobs SET status = ?1, {} = ?2 WHERE id = ?3 AND status IN (SELECT value FROM json_each(?4))",
            to.column()
        );
        Ok(self
            .conn()
            .execute(&sql, params![to.status(), now, id, allowed])?
            > 0)
    }

    /// The lines still to run, in input order.
    pub fn pending_lines(&self, id: &str) -> Result<Vec<PendingLine>, LedgerError> {
        let mut stmt = self.conn().prepare(
            "SELECT line, custom_id, body, upstream FROM batch_lines WHERE batch_id = ?1 AND state = 'pending' ORDER BY line",
        )?;
        let rows = stmt.query_map(params![id], |r| {
            Ok(PendingLine {
                line: r.get::<_, i64>(0)?.max(0) as u64,
                custom_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                body: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                upstream: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Notes the provider batch that carries `lines` (so a restart polls it, not resubmits).
    pub fn set_upstream(
        &mut self,
        id: &str,
        lines: &[u64],
        upstream: Option<&str>,
    ) -> Result<(), LedgerError> {
        let tx = self.ledger.connection_mut().transaction()?;
        {
            let mut up = tx.prepare_cached(
                "UPDATE batch_lines SET upstream = ?1 WHERE batch_id = ?2 AND line = ?3",
            )?;
            for l in lines {
                up.execute(params![upstream, id, *l as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a pending line's result; false (and nothing written) when the line was not
    /// pending any more, so a line is answered once.
    pub fn finish_line(
        &self,
        id: &str,
        line: u64,
        state: LineState,
        result: &str,
    ) -> Result<bool, LedgerError> {
        Ok(self.conn().execute(
            "UPDATE batch_lines SET state = ?1, result = ?2, body = NULL WHERE batch_id = ?3 AND line = ?4 AND state = 'pending'",
            params![state.as_str(), result, id, line as i64],
        )? > 0)
    }

    /// The results of lines in `state`, in input order.
    pub fn results(&self, id: &str, state: LineState) -> Result<Vec<String>, LedgerError> {
        let mut stmt = self.conn().prepare(
            "SELECT result FROM batch_lines WHERE batch_id = ?1 AND state = ?2 ORDER BY line",
        )?;
        let rows = stmt.query_map(params![id, state.as_str()], |r| {
            r.get::<_, Option<String>>(0)
        })?;
        let all = rows.collect::<Result<Vec<_>, _>>()?;
        Ok(all.into_iter().flatten().collect())
    }

    /// Ends a job: stores its output and error files and moves it to `to` in one transaction.
    pub fn finish_job(
        &mut self,
        id: &str,
        files: [Option<Produced<'_>>; 2],
        to: Stamp,
        now: i64,
    ) -> Result<(), LedgerError> {
        let tx = self.ledger.connection_mut().transaction()?;
        let mut ids: [Option<String>; 2] = [None, None];
        for (slot, f) in ids.iter_mut().zip(files) {
            let Some(f) = f else { continue };
            tx.execute(
                "INSERT INTO batch_files (id, owner, purpose, filename, bytes, created_at, content) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                params![f.row.id, f.row.owner, f.row.purpose, f.row.filename, f.row.bytes as i64, f.row.created_at, f.content],
            )?;
            *slot = Some(f.row.id);
        }
        let sql = format!(
            "UPDATE batch_jobs SET status = ?1, {} = ?2, output_file_id = ?3, error_file_id = ?4 WHERE id = ?5",
            to.column()
        );
        let [out, err] = ids;
        tx.execute(&sql, params![to.status(), now, out, err, id])?;
        tx.commit()?;
        Ok(())
    }

    fn with_counts(&self, mut job: JobRow) -> Result<JobRow, LedgerError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT state, COUNT(*) FROM batch_lines WHERE batch_id = ?1 GROUP BY state",
        )?;
        let rows = stmt.query_map(params![job.id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })?;
        let mut c = Counts::default();
        for row in rows {
            let (state, n) = row?;
            c.total += n;
            match state.as_str() {
                "ok" => c.completed += n,
                "failed" => c.failed += n,
                _ => {}
            }
        }
        job.counts = c;
        Ok(job)
    }
}

fn row_to_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: r.get(0)?,
        owner: r.get(1)?,
        endpoint: r.get(2)?,
        input_file_id: r.get(3)?,
        completion_window: r.get(4)?,
        metadata: r.get(5)?,
        status: r.get(6)?,
        output_file_id: r.get(7)?,
        error_file_id: r.get(8)?,
        created_at: r.get(9)?,
        expires_at: r.get(10)?,
        stamps: Stamps {
            in_progress_at: r.get(11)?,
            finalizing_at: r.get(12)?,
            completed_at: r.get(13)?,
            failed_at: r.get(14)?,
            cancelling_at: r.get(15)?,
            cancelled_at: r.get(16)?,
            expired_at: r.get(17)?,
        },
        errors: r.get(18)?,
        counts: Counts::default(),
    })
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
