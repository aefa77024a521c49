import BackgroundCopy

extension GroupSnapshot {
    /// Queued or transferring: the engine has work in it.
    var isActive: Bool { status.state == .queued || status.state == .transferring }

    /// Reads a group in one transaction; `nil` if it was cancelled meanwhile.
    static func read(_ group: Group) throws -> GroupSnapshot? {
        do {
            return try group.snapshot()
        } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }

    /// Every live group in creation order, read in one transaction; with `only`, just those.
    static func all(_ manager: QueueManager, only: Set<GroupID>? = nil) throws -> [GroupSnapshot] {
        try manager.summaries().filter { only?.contains($0.id) ?? true }
    }

    /// The file the engine works on in this group (the first with work left), if that file is
    /// transferring now.
    func transferringFile() throws -> CurrentFile? {
        guard status.state == .transferring, let jobIndex = status.currentJobIndex, jobIndex < jobs.count,
            let fileIndex = jobs[jobIndex].currentFileIndex
        else { return nil }
        do {
            let file = try jobs[jobIndex].job.file(at: fileIndex)
            guard file.state == .transferring || file.state == .finalizing else { return nil }
            return CurrentFile(jobID: jobs[jobIndex].job.id, file: file)
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
