import BackgroundCopy
import Foundation

/// The raw counterparts of ``Group/createJob(id:)`` and ``Job/addFiles(_:)``.
package final class RawFileOperations {
    let queue: RawQueue
    let jobTaken: RawStatement
    let insertJob: RawStatement
    let liveJob: RawStatement
    let nextPosition: RawStatement
    /// Multi-row inserts of 32, 8 and 1 files, as the library issues them.
    let insertFiles: [Int: RawStatement]
    let reopenComplete: RawStatement

    package init(_ queue: RawQueue) {
        self.queue = queue
        let db = queue.db
        jobTaken = db.prepare("SELECT 1 FROM jobs WHERE uuid = ?")
        insertJob = db.prepare("INSERT INTO jobs (uuid, group_id, created_at) VALUES (?, ?, ?)")
        liveJob = db.prepare("SELECT id FROM jobs WHERE uuid = ? AND group_id = ? AND state = 'active'")
        nextPosition = db.prepare("SELECT coalesce(max(position) + 1, 0) FROM files WHERE job_id = ?")
        insertFiles = Dictionary(
            uniqueKeysWithValues: [32, 8, 1].map { rows in
                (
                    rows,
                    db.prepare(
                        "INSERT INTO files (job_id, position, remote_url, local_path, size_hint, sha256) VALUES "
                            + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
                )
            })
        reopenComplete = db.prepare("UPDATE groups SET state = 'suspended', completed_at = NULL, modified_at = ? WHERE id = ?")
    }

    /// A new empty job at the end of the group.
    package func createJob(_ job: JobID, in group: GroupID) {
        let now = RawQueue.now()
        queue.write {
            let row = queue.group(group)
            withUnsafeBytes(of: job.uuid.uuid) { jobTaken.bind(1, bytes: $0) }
            guard !jobTaken.step() else { fatalError("job uuid taken") }
            jobTaken.reset()
            withUnsafeBytes(of: job.uuid.uuid) { insertJob.bind(1, bytes: $0) }
            insertJob.bind(2, row.rowID)
            insertJob.bind(3, now)
            insertJob.run()
            queue.event("modified", group: row.rowID, job: sqlite3LastInsertRowID(queue), state: row.state, detail: "job created", at: now)
        }
    }

    /// Appends files to the job; the unique index `files_live_local_path` refuses a local path a
    /// live file already has, as in the library.
    package func addFiles(_ files: [FileSpec], to job: JobID, in group: GroupID) {
        let now = RawQueue.now()
        queue.write {
            let row = queue.group(group)
            withUnsafeBytes(of: job.uuid.uuid) { liveJob.bind(1, bytes: $0) }
            liveJob.bind(2, row.rowID)
            guard liveJob.step() else { fatalError("job \(job) not found") }
            let jobRowID = liveJob.int64(0)
            liveJob.reset()
            nextPosition.bind(1, jobRowID)
            nextPosition.step()
            let first = nextPosition.int64(0)
            nextPosition.reset()
            var offset = 0
            while offset < files.count {
                let rows = [32, 8, 1].first { $0 <= files.count - offset }!
                let insert = insertFiles[rows]!
                for row in 0..<rows {
                    let file = files[offset + row]
                    let base = Int32(row * 6)
                    insert.bind(base + 1, jobRowID)
                    insert.bind(base + 2, first + Int64(offset + row))
                    insert.bind(base + 3, file.remote)
                    insert.bind(base + 4, file.local)
                    if let hint = file.sizeHint { insert.bind(base + 5, Int64(hint)) } else { insert.bindNull(base + 5) }
                    insert.bindNull(base + 6)
                }
                insert.run()
                offset += rows
            }
            var state = row.state
            if state == "complete" {
                state = "suspended"
                reopenComplete.bind(1, now)
                reopenComplete.bind(2, row.rowID)
                reopenComplete.run()
            }
            queue.event("modified", group: row.rowID, job: jobRowID, state: state, detail: "\(files.count) file(s) added", at: now)
        }
    }
}
