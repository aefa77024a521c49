import BackgroundCopy
import Foundation

/// The raw counterparts of ``QueueManager/createGroup(id:properties:)``, ``Group/suspend()``,
/// ``Group/resume()``, ``Group/status()``, ``Group/progress()``, ``Group/cancel()`` and
/// ``QueueManager/groups()``: the library's statements, prepared once.
package final class RawGroupOperations {
    let queue: RawQueue
    let uuidTaken: RawStatement
    let insertGroup: RawStatement
    let setSuspended: RawStatement
    let pending: RawStatement
    let requeueFailed: RawStatement
    let setQueued: RawStatement
    let firstJob: RawStatement
    let jobsBefore: RawStatement
    let lastError: RawStatement
    let progress: RawStatement
    let temps: RawStatement
    let retain: RawStatement
    let discard: RawStatement
    let tombstoneJobs: RawStatement
    let tombstoneGroup: RawStatement
    let enumerate: RawStatement

    package init(_ queue: RawQueue) {
        self.queue = queue
        let db = queue.db
        uuidTaken = db.prepare("SELECT 1 FROM groups WHERE uuid = ?")
        insertGroup = db.prepare(
            """
            INSERT INTO groups (uuid, priority, display_name, description, notify_flags, retry_delay_ms,
                                no_progress_timeout_ms, http_headers, created_at, modified_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        setSuspended = db.prepare("UPDATE groups SET state = 'suspended', modified_at = ? WHERE id = ?")
        pending = db.prepare(
            """
            SELECT EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                           WHERE j.group_id = ? AND j.state = 'active' AND f.state IN ('queued', 'transferring', 'finalizing', 'error'))
            """)
        requeueFailed = db.prepare(
            """
            UPDATE files SET state = 'queued'
            WHERE state = 'error' AND job_id IN (SELECT id FROM jobs WHERE group_id = ? AND state = 'active')
            """)
        setQueued = db.prepare(
            """
            UPDATE groups SET state = 'queued', modified_at = ?, retry_at = NULL, progress_at = NULL,
                   last_error_code = NULL, last_error_message = NULL, last_error_system = NULL, last_error_http = NULL,
                   last_error_retries = NULL, last_error_file_id = NULL
            WHERE id = ?
            """)
        firstJob = db.prepare(
            """
            SELECT j.id FROM jobs j WHERE j.group_id = ? AND j.state = 'active'
              AND EXISTS (SELECT 1 FROM files f WHERE f.job_id = j.id AND f.state IN ('queued', 'transferring', 'finalizing', 'error'))
            ORDER BY j.id LIMIT 1
            """)
        jobsBefore = db.prepare("SELECT count(*) FROM jobs WHERE group_id = ? AND state = 'active' AND id < ?")
        lastError = db.prepare(
            """
            SELECT g.error_count, g.last_error_code, g.last_error_message, g.last_error_system, g.last_error_http,
                   g.last_error_retries, f.position, f.job_id
            FROM groups g LEFT JOIN files f ON f.id = g.last_error_file_id WHERE g.id = ?
            """)
        progress = db.prepare(
            """
            SELECT count(*), coalesce(sum(f.state = 'complete'), 0), coalesce(sum(f.bytes_done), 0),
                   coalesce(sum(coalesce(f.bytes_total, f.size_hint)), 0),
                   coalesce(sum(f.bytes_total IS NULL AND f.size_hint IS NULL), 0)
            FROM jobs j JOIN files f ON f.job_id = j.id WHERE j.group_id = ? AND j.state = 'active'
            """)
        let jobsOfGroup = "SELECT id FROM jobs WHERE group_id = ?1 AND state = 'active'"
        temps = db.prepare(
            """
            SELECT id, state, temp_path, local_path FROM files WHERE job_id IN (\(jobsOfGroup)) AND temp_path IS NOT NULL
            """)
        retain = db.prepare(
            """
            UPDATE files SET state = 'retained' WHERE job_id IN (\(jobsOfGroup)) AND state IN ('complete', 'finalizing')
            """)
        discard = db.prepare(
            """
            UPDATE files SET state = 'discarded' WHERE job_id IN (\(jobsOfGroup)) AND state NOT IN ('retained', 'discarded')
            """)
        tombstoneJobs = db.prepare("UPDATE jobs SET state = 'cancelled', cancelled_at = ?2 WHERE group_id = ?1 AND state = 'active'")
        tombstoneGroup = db.prepare("UPDATE groups SET state = 'cancelled', cancelled_at = ?, modified_at = ? WHERE id = ?")
        enumerate = db.prepare("SELECT uuid FROM groups INDEXED BY groups_live WHERE state <> 'cancelled' ORDER BY id")
    }

    /// A new suspended group with BITS' default properties and its `groupCreated` event.
    package func createGroup(id: UUID = UUID(), displayName: String) {
        let now = RawQueue.now()
        queue.write {
            withUnsafeBytes(of: id.uuid) { uuidTaken.bind(1, bytes: $0) }
            guard !uuidTaken.step() else { fatalError("uuid taken") }
            uuidTaken.reset()
            withUnsafeBytes(of: id.uuid) { insertGroup.bind(1, bytes: $0) }
            insertGroup.bind(2, 2)
            insertGroup.bind(3, displayName)
            insertGroup.bind(4, "")
            insertGroup.bind(5, 12)
            insertGroup.bind(6, 600_000)
            insertGroup.bind(7, 1_209_600_000)
            insertGroup.bind(8, "")
            insertGroup.bind(9, now)
            insertGroup.bind(10, now)
            insertGroup.run()
            queue.event("groupCreated", group: sqlite3LastInsertRowID(queue), state: "suspended", at: now)
        }
    }

    /// Suspends a queued or transferring group.
    package func suspend(_ id: GroupID) {
        let now = RawQueue.now()
        queue.write {
            let row = queue.group(id)
            guard row.state == "queued" || row.state == "transferring" else { return }
            setSuspended.bind(1, now)
            setSuspended.bind(2, row.rowID)
            setSuspended.run()
            queue.event("modified", group: row.rowID, state: "suspended", detail: "suspended", at: now)
        }
    }

    /// Queues a suspended group that has files left.
    package func resume(_ id: GroupID) {
        let now = RawQueue.now()
        queue.write {
            let row = queue.group(id)
            guard row.state != "queued" && row.state != "transferring" else { return }
            pending.bind(1, row.rowID)
            pending.step()
            guard pending.int64(0) == 1 else { fatalError("group \(id) is empty") }
            pending.reset()
            requeueFailed.bind(1, row.rowID)
            requeueFailed.run()
            setQueued.bind(1, now)
            setQueued.bind(2, row.rowID)
            setQueued.run()
            queue.event("modified", group: row.rowID, state: "queued", detail: "resumed", at: now)
        }
    }

    /// The group's current job index and last error, as `StatusQuery.group` reads them.
    package func status(_ id: GroupID) -> (currentJob: Int64?, errorCount: Int64) {
        queue.read {
            let row = queue.group(id)
            var current: Int64?
            firstJob.bind(1, row.rowID)
            if firstJob.step() {
                jobsBefore.bind(1, row.rowID)
                jobsBefore.bind(2, firstJob.int64(0))
                jobsBefore.step()
                current = jobsBefore.int64(0)
                jobsBefore.reset()
            }
            firstJob.reset()
            lastError.bind(1, row.rowID)
            lastError.step()
            let errors = lastError.int64(0)
            lastError.reset()
            return (current, errors)
        }
    }

    /// Files and bytes over the group's live jobs.
    package func progress(_ id: GroupID) -> (files: Int64, bytesDone: Int64) {
        queue.read {
            let row = queue.group(id)
            progress.bind(1, row.rowID)
            progress.step()
            let result = (progress.int64(0), progress.int64(2))
            progress.reset()
            return result
        }
    }

    /// Cancels the group: files retained or discarded, jobs and group tombstoned, one event.
    /// Returns the temp paths the caller would unlink after the commit.
    @discardableResult
    package func cancel(_ id: GroupID) -> [String] {
        let now = RawQueue.now()
        return queue.write {
            let row = queue.group(id)
            var paths: [String] = []
            temps.bind(1, row.rowID)
            while temps.step() { paths.append(temps.text(2)) }
            temps.reset()
            retain.bind(1, row.rowID)
            retain.run()
            let retained = sqlite3Changes(queue)
            discard.bind(1, row.rowID)
            discard.run()
            let discarded = sqlite3Changes(queue)
            tombstoneJobs.bind(1, row.rowID)
            tombstoneJobs.bind(2, now)
            tombstoneJobs.run()
            tombstoneGroup.bind(1, now)
            tombstoneGroup.bind(2, now)
            tombstoneGroup.bind(3, row.rowID)
            tombstoneGroup.run()
            queue.event("cancelled", group: row.rowID, state: "cancelled", detail: "retained \(retained), discarded \(discarded)", at: now)
            return paths
        }
    }

    /// The IDs of every live group in creation order.
    package func groups() -> [UUID] {
        queue.read {
            var ids: [UUID] = []
            while enumerate.step() {
                var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
                withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: enumerate.blob(0)) }
                ids.append(UUID(uuid: value))
            }
            enumerate.reset()
            return ids
        }
    }
}
