import BackgroundCopy

/// One group as it stands now: properties, status and progress, read in three transactions
/// (the library has no single call for all three; a group cancelled in between is skipped).
struct GroupSnapshot: Sendable {
    let group: Group
    let properties: GroupProperties
    let status: GroupStatus
    let progress: TransferProgress

    var id: GroupID { group.id }

    /// Queued or transferring: the engine has work in it.
    var isActive: Bool { status.state == .queued || status.state == .transferring }

    /// Reads a group; `nil` if it was cancelled meanwhile.
    static func read(_ group: Group) throws -> GroupSnapshot? {
        do {
            return GroupSnapshot(group: group, properties: try group.properties(), status: try group.status(),
                                 progress: try group.progress())
        } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }

    /// Every live group in creation order; with `only`, just those.
    static func all(_ manager: QueueManager, only: Set<GroupID>? = nil) throws -> [GroupSnapshot] {
        try manager.groups().filter { only?.contains($0.id) ?? true }.compactMap { try read($0) }
    }

    /// The file the engine works on in this group (it transfers one file per group at a time),
    /// if that file is transferring now.
    func transferringFile() throws -> CurrentFile? {
        guard status.state == .transferring, let jobIndex = status.currentJobIndex else { return nil }
        do {
            let jobs = try group.jobs()
            guard jobIndex < jobs.count, let fileIndex = try jobs[jobIndex].status().currentFileIndex else { return nil }
            let file = try jobs[jobIndex].file(at: fileIndex)
            guard file.state == .transferring || file.state == .finalizing else { return nil }
            return CurrentFile(jobID: jobs[jobIndex].id, file: file)
        } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }
}

/// A file being transferred, and the job it belongs to.
struct CurrentFile: Sendable {
    let jobID: JobID
    let file: FileInfo

    /// The key its rate is measured under.
    var rateKey: String { "\(jobID)/\(file.index)" }

    /// Percent done by bytes, when the size is known.
    var percent: Int {
        guard let total = file.bytesTotal ?? file.sizeHint, total > 0 else { return 0 }
        return min(100, Int(Double(file.bytesDone) * 100 / Double(total)))
    }
}

extension QueueManager {
    /// The sequence number of the newest event, 0 if there is none. The library has no call for
    /// it, so this searches with `recordedEvents(after:limit: 1)`: about 2·log2(sequence) reads.
    func lastEventSequence() throws -> Int64 {
        guard try !recordedEvents(after: 0, limit: 1).isEmpty else { return 0 }
        var low: Int64 = 0  // an event exists after low
        var high: Int64 = 1
        while try !recordedEvents(after: high, limit: 1).isEmpty {
            low = high
            high *= 2
        }
        while high - low > 1 {  // an event after low, none after high
            let middle = low + (high - low) / 2
            if try recordedEvents(after: middle, limit: 1).isEmpty { high = middle } else { low = middle }
        }
        return high
    }
}
