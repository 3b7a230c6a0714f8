//! The SQLite backend of [`batch::Store`](super::Store): the batch tables in the ledger file
//! (claims are plain columns: SQLite serialises writers, so `UPDATE … RETURNING` is the claim).

use super::{
    Claim, FileRow, JOB_COLUMNS, JobRow, LineState, NewLine, PendingLine, Produced, Stamp, Stamps,
    Store, UNFINISHED,
};
use crate::{LedgerError, SqliteStore};
use rusqlite::{OptionalExtension, params};

const INSERT_FILE: &str = "INSERT INTO batch_files (id, owner, purpose, filename, bytes, created_at, content) VALUES (?1,?2,?3,?4,?5,?6,?7)";

fn pending_line(r: &rusqlite::Row<'_>) -> rusqlite::Result<PendingLine> {
    Ok(PendingLine {
        line: r.get::<_, i64>(0)?.max(0) as u64,
        custom_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
        body: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        upstream: r.get(3)?,
    })
}

impl SqliteStore {
    fn with_counts(&self, mut job: JobRow) -> Result<JobRow, LedgerError> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT state, COUNT(*) FROM batch_lines WHERE batch_id = ?1 GROUP BY state",
        )?;
        let rows = stmt.query_map(params![job.id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })?;
        job.counts = super::counts(rows.collect::<Result<Vec<_>, _>>()?);
        Ok(job)
    }
}

impl Store for SqliteStore {
    fn put_file(&self, row: &FileRow, content: &[u8]) -> Result<(), LedgerError> {
        self.connection().execute(
            INSERT_FILE,
            params![
                row.id,
                row.owner,
                row.purpose,
                row.filename,
                row.bytes as i64,
                row.created_at,
                content
            ],
        )?;
        Ok(())
    }

    fn file(&self, id: &str) -> Result<Option<FileRow>, LedgerError> {
        Ok(self
            .connection()
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

    fn file_content(&self, id: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self
            .connection()
            .query_row(
                "SELECT content FROM batch_files WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn delete_file(&self, id: &str) -> Result<bool, LedgerError> {
        Ok(self
            .connection()
            .execute("DELETE FROM batch_files WHERE id = ?1", params![id])?
            > 0)
    }

    fn create_job(&mut self, job: &JobRow, lines: &[NewLine]) -> Result<(), LedgerError> {
        let tx = self.connection_mut().transaction()?;
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

    fn job(&self, id: &str) -> Result<Option<JobRow>, LedgerError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM batch_jobs WHERE id = ?1");
        let job = self
            .connection()
            .query_row(&sql, params![id], row_to_job)
            .optional()?;
        job.map(|j| self.with_counts(j)).transpose()
    }

    fn list_jobs(
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
        let mut stmt = self.connection().prepare(&sql)?;
        let rows = stmt.query_map(
            params![owner.is_some(), owner.flatten(), after, limit as i64],
            row_to_job,
        )?;
        let jobs = rows.collect::<Result<Vec<_>, _>>()?;
        jobs.into_iter().map(|j| self.with_counts(j)).collect()
    }

    fn unfinished_jobs(&self) -> Result<Vec<String>, LedgerError> {
        let sql = format!("SELECT id FROM batch_jobs WHERE status IN {UNFINISHED} ORDER BY seq");
        let mut stmt = self.connection().prepare(&sql)?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<Result<Vec<_>, _>>()?)
    }

    fn transition(
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
            .connection()
            .execute(&sql, params![to.status(), now, id, allowed])?
            > 0)
    }

    fn pending_lines(&self, id: &str) -> Result<Vec<PendingLine>, LedgerError> {
        let mut stmt = self.connection().prepare(
            "SELECT line, custom_id, body, upstream FROM batch_lines WHERE batch_id = ?1 AND state = 'pending' ORDER BY line",
        )?;
        let rows = stmt.query_map(params![id], pending_line)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// SQLite serialises writers, so the one `UPDATE … RETURNING` is the claim.
    fn claim_lines(
        &self,
        id: &str,
        claim: &Claim,
        limit: usize,
    ) -> Result<Vec<PendingLine>, LedgerError> {
        let mut stmt = self.connection().prepare_cached(
            "UPDATE batch_lines SET claimed_by = ?1, lease_until_ms = ?2
             WHERE batch_id = ?3 AND line IN (
                 SELECT line FROM batch_lines
                 WHERE batch_id = ?3 AND state = 'pending'
                   AND (claimed_by IS NULL OR claimed_by = ?1 OR lease_until_ms < ?4)
                 ORDER BY line LIMIT ?5)
             RETURNING line, custom_id, body, upstream",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![claim.owner, claim.lease_until_ms, id, claim.now_ms, limit],
            pending_line,
        )?;
        let mut lines = rows.collect::<Result<Vec<_>, _>>()?;
        lines.sort_by_key(|l| l.line);
        Ok(lines)
    }

    fn renew_claims(&self, claim: &Claim) -> Result<u64, LedgerError> {
        Ok(self.connection().execute(
            "UPDATE batch_lines SET lease_until_ms = ?1 WHERE claimed_by = ?2 AND state = 'pending'",
            params![claim.lease_until_ms, claim.owner],
        )? as u64)
    }

    fn release_claims(&self, owner: &str) -> Result<u64, LedgerError> {
        Ok(self.connection().execute(
            "UPDATE batch_lines SET claimed_by = NULL, lease_until_ms = NULL WHERE claimed_by = ?1",
            params![owner],
        )? as u64)
    }

    fn set_upstream(
        &mut self,
        id: &str,
        lines: &[u64],
        upstream: Option<&str>,
    ) -> Result<(), LedgerError> {
        let tx = self.connection_mut().transaction()?;
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

    fn finish_line(
        &self,
        id: &str,
        line: u64,
        state: LineState,
        result: &str,
    ) -> Result<bool, LedgerError> {
        Ok(self.connection().execute(
            "UPDATE batch_lines SET state = ?1, result = ?2, body = NULL, claimed_by = NULL, lease_until_ms = NULL
             WHERE batch_id = ?3 AND line = ?4 AND state = 'pending'",
            params![state.as_str(), result, id, line as i64],
        )? > 0)
    }

    fn results(&self, id: &str, state: LineState) -> Result<Vec<String>, LedgerError> {
        let mut stmt = self.connection().prepare(
            "SELECT result FROM batch_lines WHERE batch_id = ?1 AND state = ?2 ORDER BY line",
        )?;
        let rows = stmt.query_map(params![id, state.as_str()], |r| {
            r.get::<_, Option<String>>(0)
        })?;
        let all = rows.collect::<Result<Vec<_>, _>>()?;
        Ok(all.into_iter().flatten().collect())
    }

    fn finish_job(
        &mut self,
        id: &str,
        files: [Option<Produced<'_>>; 2],
        to: Stamp,
        now: i64,
    ) -> Result<bool, LedgerError> {
        let tx = self.connection_mut().transaction()?;
        let mut ids: [Option<String>; 2] = [None, None];
        for (slot, f) in ids.iter_mut().zip(files) {
            let Some(f) = f else { continue };
            tx.execute(
                INSERT_FILE,
                params![
                    f.row.id,
                    f.row.owner,
                    f.row.purpose,
                    f.row.filename,
                    f.row.bytes as i64,
                    f.row.created_at,
                    f.content
                ],
            )?;
            *slot = Some(f.row.id);
        }
        let sql = format!(
            "UPDATE batch_jobs SET status = ?1, {} = ?2, output_file_id = ?3, error_file_id = ?4
             WHERE id = ?5 AND status IN {UNFINISHED}",
            to.column()
        );
        let [out, err] = ids;
        if tx.execute(&sql, params![to.status(), now, out, err, id])? == 0 {
            // Dropping the transaction rolls the files back.
            return Ok(false);
        }
        tx.commit()?;
        Ok(true)
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
        counts: Default::default(),
    })
}
