import Foundation

extension TransferLedger {
    /// Claims the next file to transfer: groups by priority then age; within a group, the first
    /// queued file of its jobs and files in order, provided fewer than `filesPerGroup` of the
    /// group's files are already in flight; with `foregroundOnly`, only foreground groups and
    /// `alsoGroup` (the background group already running, which may start more of its files).
    /// Groups waiting for a retry are skipped; resumed groups with nothing left to do are completed
    /// on the way. Marks it `transferring` (and its group) and records its temp path before the
    /// temp file exists, so recovery always knows which temp files are ours.
    package func claimNextFile(filesPerGroup: Int = 1, foregroundOnly: Bool = false, alsoGroup: Int64? = nil) throws(QueueError) -> Claim? {
        let background: BackgroundSlot = foregroundOnly ? .taken(by: alsoGroup) : .free
        return try core.store.write(quiet: true, claimStep(limit: 1, filesPerGroup: filesPerGroup, background: background)).first
    }

    /// The `async` form of ``claimNextFile(filesPerGroup:foregroundOnly:alsoGroup:)``: suspends while the store works.
    package func claimNextFile(filesPerGroup: Int = 1, foregroundOnly: Bool = false, alsoGroup: Int64? = nil) async throws(QueueError) -> Claim? {
        let background: BackgroundSlot = foregroundOnly ? .taken(by: alsoGroup) : .free
        return try await core.store.write(quiet: true, claimStep(limit: 1, filesPerGroup: filesPerGroup, background: background)).first
    }

    /// Claims up to `limit` files in one transaction, in the order ``claimNextFile(filesPerGroup:foregroundOnly:alsoGroup:)``
    /// would claim them one by one: foreground groups, and one background group — `runningBackground`
    /// if the engine already runs one, else the best that has a file to start.
    package func claimFiles(limit: Int, filesPerGroup: Int, runningBackground: Int64?) async throws(QueueError) -> [Claim] {
        try await core.store.write(
            quiet: true,
            claimStep(limit: limit, filesPerGroup: filesPerGroup, background: runningBackground.map { .taken(by: $0) } ?? .free))
    }

    /// Which background group may start files: the engine runs one background group at a time.
    private enum BackgroundSlot {
        /// None runs yet: the first with a file to start becomes the one.
        case free
        /// Only this group (if any) may start more files; other background groups wait.
        case taken(by: Int64?)
    }

    /// The claim transaction: up to `limit` files, group by group in claim order. Its cost does not grow with the queue: `groups_runnable` hands out groups in claim order (no sort
    /// of every runnable group), and the redundant `f.state IN` term lets the queued files come
    /// from `files_pending` instead of a walk past the job's finished files.
    private func claimStep(limit: Int, filesPerGroup: Int, background: BackgroundSlot) -> @Sendable (Connection) throws(QueueError) -> [Claim] {
        let now = core.now()
        let (restricted, only): (Bool, Int64?) =
            switch background {
            case .free: (false, nil)
            case .taken(let group): (true, group)
            }
        return { db throws(QueueError) in
            let candidates = try db.statement(
                """
                SELECT g.id, g.uuid, g.priority, g.http_headers,
                       (SELECT count(*) FROM jobs j JOIN files f ON f.job_id = j.id
                        WHERE j.group_id = g.id AND j.state = 'active' AND f.state IN ('transferring', 'finalizing'))
                FROM groups g INDEXED BY groups_runnable
                WHERE g.state IN ('queued', 'transferring') AND (g.retry_at IS NULL OR g.retry_at <= ?1)
                  AND (g.priority = 0 OR NOT ?2 OR g.id = ?3)
                ORDER BY g.priority, g.id
                """
            ).bind(.integer(now), .integer(restricted ? 1 : 0), .optional(only))
            var chosen: [(group: Int64, uuid: UUID, priority: Priority, headers: [HTTPHeader], files: [Int64])] = []
            var idle: [Int64] = []
            var backgroundTaken = restricted
            var left = limit
            while left > 0, try candidates.step() {
                let group = candidates.int64(0)
                let priority = Priority(rawValue: candidates.int(2)) ?? .normal
                let inFlight = candidates.int(4)
                let files = try queuedFiles(db, group: group, limit: max(0, min(left, filesPerGroup - inFlight)))
                if files.isEmpty, inFlight == 0 {
                    idle.append(group)
                    continue
                }
                guard !files.isEmpty, let uuid = candidates.uuid(1) else { continue }
                if priority != .foreground && !restricted {
                    guard !backgroundTaken else { continue }
                    backgroundTaken = true
                }
                chosen.append((group, uuid, priority, HeaderCoding.decode(candidates.text(3)), files))
                left -= files.count
            }
            candidates.reset()
            for group in idle { try GroupSettlement.complete(db, group, at: now) }
            var claims: [Claim] = []
            for entry in chosen {
                for file in entry.files {
                    claims.append(try claim(db, file: file, group: entry.group, uuid: entry.uuid, priority: entry.priority, headers: entry.headers))
                }
                try db.statement(
                    """
                    UPDATE groups SET state = 'transferring', modified_at = ?1, progress_at = coalesce(progress_at, ?1) WHERE id = ?2
                    """
                ).bind(.integer(now), .integer(entry.group)).run()
            }
            return claims
        }
    }

    /// The first `limit` queued files of the group's active jobs, in order.
    private func queuedFiles(_ db: Connection, group: Int64, limit: Int) throws(QueueError) -> [Int64] {
        guard limit > 0 else { return [] }
        let files = try db.statement(
            """
            SELECT f.id FROM jobs j JOIN files f ON f.job_id = j.id
            WHERE j.group_id = ? AND j.state = 'active' AND f.state = 'queued'
              AND f.state IN ('queued', 'transferring', 'finalizing', 'error')
            ORDER BY j.id, f.position LIMIT ?
            """
        ).bind(.integer(group), .int(limit))
        var ids: [Int64] = []
        while try files.step() { ids.append(files.int64(0)) }
        return ids
    }

    /// Marks one file `transferring` with its temp path and reads what its transfer needs.
    private func claim(_ db: Connection, file: Int64, group: Int64, uuid: UUID, priority: Priority, headers: [HTTPHeader]) throws(QueueError) -> Claim {
        let local = try db.statement("SELECT local_path FROM files WHERE id = ?").bind(.integer(file))
        _ = try local.step()
        let temp = TransferLedger.tempPath(local: local.text(0), fileRowID: file)
        local.reset()
        let row = try db.statement(
            """
            UPDATE files SET state = 'transferring', temp_path = coalesce(temp_path, ?) WHERE id = ?
            RETURNING remote_url, local_path, temp_path, bytes_done, bytes_total, validator, sha256, retries
            """
        ).bind(.text(temp), .integer(file))
        _ = try row.step()
        let claim = Claim(
            fileRowID: file, groupRowID: group, groupID: GroupID(uuid), priority: priority, headers: headers,
            retries: row.int(7), remote: row.text(0), local: row.text(1), tempPath: row.text(2),
            bytesDone: UInt64(row.int64(3)), bytesTotal: row.optionalInt64(4).map(UInt64.init),
            validator: row.optionalText(5), sha256: row.optionalBlob(6))
        row.reset()
        return claim
    }
}
