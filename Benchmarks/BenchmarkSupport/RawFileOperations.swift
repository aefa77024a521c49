import BackgroundCopy
import Foundation

/// The raw counterparts of ``Group/createJob(id:)`` and ``Job/addFiles(_:)``.
package final class RawFileOperations {
    let queue: RawQueue
    let jobTaken: RawStatement
    let insertJob: RawStatement
    let liveJob: RawStatement
    let pathTaken: RawStatement
    let nextPosition: RawStatement
    let insertFile: RawStatement
    let reopenComplete: RawStatement

    package init(_ queue: RawQueue) {
        self.queue = queue
        let db = queue.db
        jobTaken = db.prepare("SELECT 1 FROM jobs WHERE uuid = ?")
        insertJob = db.prepare("INSERT INTO jobs (uuid, group_id, created_at) VALUES (?, ?, ?)")
        liveJob = db.prepare("SELECT id FROM jobs WHERE uuid = ? AND group_id = ? AND state = 'active'")
        pathTaken = db.prepare("SELECT 1 FROM files WHERE local_path = ? AND state NOT IN ('retained', 'discarded')")
        nextPosition = db.prepare("SELECT coalesce(max(position) + 1, 0) FROM files WHERE job_id = ?")
        insertFile = db.prepare("""
            INSERT INTO files (job_id, position, remote_url, local_path, size_hint, sha256) VALUES (?, ?, ?, ?, ?, ?)
            """)
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

    /// Appends files to the job, refusing a local path a live file already has.
    package func addFiles(_ files: [FileSpec], to job: JobID, in group: GroupID) {
        let now = RawQueue.now()
        queue.write {
            let row = queue.group(group)
            withUnsafeBytes(of: job.uuid.uuid) { liveJob.bind(1, bytes: $0) }
            liveJob.bind(2, row.rowID)
            guard liveJob.step() else { fatalError("job \(job) not found") }
            let jobRowID = liveJob.int64(0)
            liveJob.reset()
            for file in files {
                pathTaken.bind(1, file.local)
                guard !pathTaken.step() else { fatalError("\(file.local) taken") }
                pathTaken.reset()
            }
            nextPosition.bind(1, jobRowID)
            nextPosition.step()
            let first = nextPosition.int64(0)
            nextPosition.reset()
            for (offset, file) in files.enumerated() {
                insertFile.bind(1, jobRowID)
                insertFile.bind(2, first + Int64(offset))
                insertFile.bind(3, file.remote)
                insertFile.bind(4, file.local)
                if let hint = file.sizeHint { insertFile.bind(5, Int64(hint)) } else { insertFile.bindNull(5) }
                insertFile.bindNull(6)
                insertFile.run()
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
