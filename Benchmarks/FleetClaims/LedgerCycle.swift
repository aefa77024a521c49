import BackgroundCopy

/// One claim→complete cycle through a backend's engine ledger, as the engine's worker takes it
/// for a file whose bytes are already in place: claim the next file (under a lease on
/// PostgreSQL), record `finalizing` (the intent to rename, which `complete` requires), commit it
/// `complete` (on PostgreSQL presenting the lease's fencing token). No transfer, no file touched.
enum LedgerCycle {
    /// Runs one cycle; `false` when nothing was left to claim.
    static func run(_ ledger: some EngineLedger) async throws -> Bool {
        guard let claim = try await ledger.claimNextFile(filesPerGroup: 1, foregroundOnly: false, alsoGroup: nil) else { return false }
        guard try await ledger.beginFinalizing(claim.fileRowID, bytesTotal: 0) else { throw LostClaim(file: claim.fileRowID) }
        try await ledger.complete(claim.fileRowID)
        return true
    }
}

/// A file claimed a moment ago was no longer the engine's to finalize (nothing else runs on the
/// queue, so this is a bug).
struct LostClaim: Error, CustomStringConvertible {
    let file: Int64
    var description: String { "file \(file) was claimed but could not be finalized" }
}

/// The backlog every row starts from: groups of 100 queued files, added and resumed through the
/// library (the same calls on both backends).
enum Backlog {
    static let filesPerGroup = 100

    /// The files of group number `group`, their local paths under `downloads` (never written).
    static func specs(group: Int, downloads: String) -> [FileSpec] {
        (0..<filesPerGroup).map { index in
            FileSpec(remote: "https://downloads.example.com/fleet/\(group)/\(index).bin", local: "\(downloads)/\(group)-\(index).bin")
        }
    }

    /// Fills a SQLite queue with `groups` groups.
    static func fill(_ manager: QueueManager, groups: Int, downloads: String) throws {
        for group in 0..<groups {
            let created = try manager.createGroup(properties: GroupProperties(displayName: "backlog \(group)"))
            try created.createJob().addFiles(specs(group: group, downloads: downloads))
            try created.resume()
        }
    }

    /// Fills a PostgreSQL queue with `groups` groups, from `writers` tasks at once.
    static func fill(_ queue: PostgresQueueManager, groups: Int, downloads: String, writers: Int = 8) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for writer in 0..<writers {
                tasks.addTask {
                    for group in stride(from: writer, to: groups, by: writers) {
                        let created = try await queue.createGroup(properties: GroupProperties(displayName: "backlog \(group)"))
                        try await created.createJob().addFiles(specs(group: group, downloads: downloads))
                        try await created.resume()
                    }
                }
            }
            try await tasks.waitForAll()
        }
    }
}
