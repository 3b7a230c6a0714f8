//! The PostgreSQL backend of [`batch::Store`]: the batch tables shared by every replica.
//!
//! Lines are claimed with `FOR UPDATE SKIP LOCKED` in the claim statement itself, and the
//! claim is kept as a lease column (`claimed_by`, `lease_until_ms`), not as a row lock: a line
//! runs for seconds to hours (a provider batch), far too long to hold a transaction open per
//! line, and a lease outlives a dropped connection only as long as it should. Job `seq`
//! numbers are taken under a table lock so two replicas creating batches at once never share
//! one (the list's paging relies on them).

use super::PgStore;
use crate::LedgerError;
use crate::batch::{
    self, Claim, FileRow, JOB_COLUMNS, JobRow, LineState, NewLine, PendingLine, Produced, Stamp,
    Stamps, UNFINISHED,
};

const INSERT_FILE: &str = "INSERT INTO batch_files (id, owner, purpose, filename, bytes, created_at, content) VALUES ($1,$2,$3,$4,$5,$6,$7)";

fn pending_line(r: &postgres::Row) -> PendingLine {
    PendingLine {
        line: r.get::<_, i64>(0).max(0) as u64,
        custom_id: r.get::<_, Option<String>>(1).unwrap_or_default(),
        body: r.get::<_, Option<String>>(2).unwrap_or_default(),
        upstream: r.get(3),
    }
}

fn row_to_job(r: &postgres::Row) -> JobRow {
    JobRow {
        id: r.get(0),
        owner: r.get(1),
        endpoint: r.get(2),
        input_file_id: r.get(3),
        completion_window: r.get(4),
        metadata: r.get(5),
        status: r.get(6),
        output_file_id: r.get(7),
        error_file_id: r.get(8),
        created_at: r.get(9),
        expires_at: r.get(10),
        stamps: Stamps {
            in_progress_at: r.get(11),
            finalizing_at: r.get(12),
            completed_at: r.get(13),
            failed_at: r.get(14),
            cancelling_at: r.get(15),
            cancelled_at: r.get(16),
            expired_at: r.get(17),
        },
        errors: r.get(18),
        counts: Default::default(),
    }
}

fn with_counts(c: &mut postgres::Client, mut job: JobRow) -> Result<JobRow, LedgerError> {
    let rows = c.query(
        "SELECT state, COUNT(*) FROM batch_lines WHERE batch_id = $1 GROUP BY state",
        &[&job.id],
    )?;
    job.counts = batch::counts(
        rows.iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1).max(0) as u64)),
    );
    Ok(job)
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl batch::Store for PgStore {
    fn put_file(&self, row: &FileRow, content: &[u8]) -> Result<(), LedgerError> {
        self.with(|c| {
            c.execute(
                INSERT_FILE,
                &[
                    &row.id,
                    &row.owner,
                    &row.purpose,
                    &row.filename,
                    &i64_of(row.bytes),
                    &row.created_at,
                    &content,
                ],
            )?;
            Ok(())
        })
    }

    fn file(&self, id: &str) -> Result<Option<FileRow>, LedgerError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT id, owner, purpose, filename, bytes, created_at FROM batch_files WHERE id = $1",
                &[&id],
            )?;
            Ok(row.map(|r| FileRow {
                id: r.get(0),
                owner: r.get(1),
                purpose: r.get(2),
                filename: r.get(3),
                bytes: r.get::<_, i64>(4).max(0) as u64,
                created_at: r.get(5),
            }))
        })
    }

    fn file_content(&self, id: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        self.with(|c| {
            let row = c.query_opt("SELECT content FROM batch_files WHERE id = $1", &[&id])?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn delete_file(&self, id: &str) -> Result<bool, LedgerError> {
        self.with(|c| Ok(c.execute("DELETE FROM batch_files WHERE id = $1", &[&id])? > 0))
    }

    /// The lines go in one `INSERT … SELECT FROM UNNEST(…)`: one round trip for any count.
    fn create_job(&mut self, job: &JobRow, lines: &[NewLine]) -> Result<(), LedgerError> {
        let numbers: Vec<i64> = lines.iter().map(|l| i64_of(l.line)).collect();
        let custom: Vec<Option<&str>> = lines.iter().map(|l| l.custom_id.as_deref()).collect();
        let states: Vec<&str> = lines.iter().map(|l| l.state.as_str()).collect();
        let bodies: Vec<Option<&str>> = lines.iter().map(|l| l.body.as_deref()).collect();
        let results: Vec<Option<&str>> = lines.iter().map(|l| l.result.as_deref()).collect();
        self.with(|c| {
            let mut tx = c.transaction()?;
            tx.batch_execute("LOCK TABLE batch_jobs IN SHARE ROW EXCLUSIVE MODE")?;
            tx.execute(
                "INSERT INTO batch_jobs (id, owner, seq, endpoint, input_file_id, completion_window, metadata, status, created_at, expires_at, errors)
                 VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM batch_jobs), $3, $4, $5, $6, $7, $8, $9, $10)",
                &[&job.id, &job.owner, &job.endpoint, &job.input_file_id, &job.completion_window, &job.metadata, &job.status, &job.created_at, &job.expires_at, &job.errors],
            )?;
            tx.execute(
                "INSERT INTO batch_lines (batch_id, line, custom_id, state, body, result)
                 SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[])",
                &[&job.id, &numbers, &custom, &states, &bodies, &results],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn job(&self, id: &str) -> Result<Option<JobRow>, LedgerError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM batch_jobs WHERE id = $1");
        self.with(|c| {
            let row = c.query_opt(sql.as_str(), &[&id])?;
            row.map(|r| with_counts(c, row_to_job(&r))).transpose()
        })
    }

    fn list_jobs(
        &self,
        owner: Option<Option<&str>>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JobRow>, LedgerError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM batch_jobs
             WHERE (NOT $1 OR owner IS NOT DISTINCT FROM $2)
               AND seq < COALESCE((SELECT seq FROM batch_jobs WHERE id = $3), 9223372036854775807)
             ORDER BY seq DESC LIMIT $4"
        );
        let (filter, who) = (owner.is_some(), owner.flatten());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|c| {
            let rows = c.query(sql.as_str(), &[&filter, &who, &after, &limit])?;
            rows.iter().map(|r| with_counts(c, row_to_job(r))).collect()
        })
    }

    fn unfinished_jobs(&self) -> Result<Vec<String>, LedgerError> {
        let sql = format!("SELECT id FROM batch_jobs WHERE status IN {UNFINISHED} ORDER BY seq");
        self.with(|c| {
            Ok(c.query(sql.as_str(), &[])?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn transition(
        &self,
        id: &str,
        from: &[&str],
        to: Stamp,
        now: i64,
    ) -> Result<bool, LedgerError> {
        let sql = format!(
            "UPDATE batch_jobs SET status = $1, {} = $2 WHERE id = $3 AND status = ANY($4)",
            to.column()
        );
        self.with(|c| Ok(c.execute(sql.as_str(), &[&to.status(), &now, &id, &from])? > 0))
    }

    fn pending_lines(&self, id: &str) -> Result<Vec<PendingLine>, LedgerError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT line, custom_id, body, upstream FROM batch_lines WHERE batch_id = $1 AND state = 'pending' ORDER BY line",
                &[&id],
            )?;
            Ok(rows.iter().map(pending_line).collect())
        })
    }

    /// The inner `SELECT … FOR UPDATE SKIP LOCKED` locks the rows it picks and skips rows
    /// another claimer has locked; a row another claimer has just claimed is re-checked
    /// against the lease condition after its lock is released, so it drops out too.
    fn claim_lines(
        &self,
        id: &str,
        claim: &Claim,
        limit: usize,
    ) -> Result<Vec<PendingLine>, LedgerError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|c| {
            let rows = c.query(
                "UPDATE batch_lines l SET claimed_by = $1, lease_until_ms = $2
                 FROM (SELECT batch_id, line FROM batch_lines
                       WHERE batch_id = $3 AND state = 'pending'
                         AND (claimed_by IS NULL OR claimed_by = $1 OR lease_until_ms < $4)
                       ORDER BY line LIMIT $5
                       FOR UPDATE SKIP LOCKED) free
                 WHERE l.batch_id = free.batch_id AND l.line = free.line
                 RETURNING l.line, l.custom_id, l.body, l.upstream",
                &[
                    &claim.owner,
                    &claim.lease_until_ms,
                    &id,
                    &claim.now_ms,
                    &limit,
                ],
            )?;
            let mut lines: Vec<PendingLine> = rows.iter().map(pending_line).collect();
            lines.sort_by_key(|l| l.line);
            Ok(lines)
        })
    }

    fn renew_claims(&self, claim: &Claim) -> Result<u64, LedgerError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE batch_lines SET lease_until_ms = $1 WHERE claimed_by = $2 AND state = 'pending'",
                &[&claim.lease_until_ms, &claim.owner],
            )?)
        })
    }

    fn release_claims(&self, owner: &str) -> Result<u64, LedgerError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE batch_lines SET claimed_by = NULL, lease_until_ms = NULL WHERE claimed_by = $1",
                &[&owner],
            )?)
        })
    }

    fn set_upstream(
        &mut self,
        id: &str,
        lines: &[u64],
        upstream: Option<&str>,
    ) -> Result<(), LedgerError> {
        let numbers: Vec<i64> = lines.iter().copied().map(i64_of).collect();
        self.with(|c| {
            c.execute(
                "UPDATE batch_lines SET upstream = $1 WHERE batch_id = $2 AND line = ANY($3)",
                &[&upstream, &id, &numbers],
            )?;
            Ok(())
        })
    }

    fn finish_line(
        &self,
        id: &str,
        line: u64,
        state: LineState,
        result: &str,
    ) -> Result<bool, LedgerError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE batch_lines SET state = $1, result = $2, body = NULL, claimed_by = NULL, lease_until_ms = NULL
                 WHERE batch_id = $3 AND line = $4 AND state = 'pending'",
                &[&state.as_str(), &result, &id, &i64_of(line)],
            )? > 0)
        })
    }

    fn results(&self, id: &str, state: LineState) -> Result<Vec<String>, LedgerError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT result FROM batch_lines WHERE batch_id = $1 AND state = $2 ORDER BY line",
                &[&id, &state.as_str()],
            )?;
            Ok(rows
                .iter()
                .filter_map(|r| r.get::<_, Option<String>>(0))
                .collect())
        })
    }

    /// The job's row is locked first, so of two runners ending it at once the second sees
    /// it finished and stores nothing.
    fn finish_job(
        &mut self,
        id: &str,
        files: [Option<Produced<'_>>; 2],
        to: Stamp,
        now: i64,
    ) -> Result<bool, LedgerError> {
        let lock =
            format!("SELECT 1 FROM batch_jobs WHERE id = $1 AND status IN {UNFINISHED} FOR UPDATE");
        let update = format!(
            "UPDATE batch_jobs SET status = $1, {} = $2, output_file_id = $3, error_file_id = $4 WHERE id = $5",
            to.column()
        );
        self.with(|c| {
            let mut tx = c.transaction()?;
            if tx.query_opt(lock.as_str(), &[&id])?.is_none() {
                return Ok(false);
            }
            let mut ids: [Option<String>; 2] = [None, None];
            for (slot, f) in ids.iter_mut().zip(files) {
                let Some(f) = f else { continue };
                tx.execute(
                    INSERT_FILE,
                    &[
                        &f.row.id,
                        &f.row.owner,
                        &f.row.purpose,
                        &f.row.filename,
                        &i64_of(f.row.bytes),
                        &f.row.created_at,
                        &f.content,
                    ],
                )?;
                *slot = Some(f.row.id);
            }
            let [out, err] = ids;
            tx.execute(update.as_str(), &[&to.status(), &now, &out, &err, &id])?;
            tx.commit()?;
            Ok(true)
        })
    }
}
