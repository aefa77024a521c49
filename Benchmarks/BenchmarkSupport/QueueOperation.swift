import BackgroundCopy

/// The operations of DESIGN.md's Performance section, each measured through the library and
/// through ``RawQueue``.
package enum QueueOperation: String, CaseIterable, Sendable {
    case createGroup
    case addFiles1 = "addFiles ×1"
    case addFiles100 = "addFiles ×100"
    case resume
    case status
    case progress
    case claimNextFile = "claim-next-file"
    case checkpoint
    case completeFile = "complete-file"
    case cancel100 = "cancel (100 files)"
    case enumerate = "enumerate 10,000 groups"

    /// The single-call operations, whose cost must not grow with the queue.
    package static let singleCall: [QueueOperation] = [
        .createGroup, .addFiles1, .resume, .status, .progress, .claimNextFile, .checkpoint, .completeFile,
    ]

    /// Samples taken per benchmark at most; the claim and complete subjects hold enough files for them.
    package static let maxSamples = 2000
    static let warmup = 10

    /// The case named `name` (`addFiles1`, `status`, …).
    package static func named(_ name: String) -> QueueOperation? {
        allCases.first { "\($0)" == name }
    }

    /// Through the library's API or as raw SQL.
    package enum Path: Sendable {
        case library
        case raw
    }

    /// Creates the operation's database in `database` and returns its step, ready to sample.
    /// The raw path builds its subject through the library too, then closes the library's
    /// connection before its own opens.
    package func step(_ path: Path, durability: QueueManager.Durability, backlog: Filler, database: DatabaseFile) throws(QueueError) -> Step {
        let file = database.create(filler(backlog))
        let configuration = Workspace.configuration(durability)
        switch path {
        case .library:
            let manager = try QueueManager(path: file, configuration: configuration)
            return try library(manager, subject(manager))
        case .raw:
            let subject = try subject(QueueManager(path: file, configuration: configuration))
            return raw(RawQueue(path: file, durability: durability), subject)
        }
    }

    /// The queue this operation runs on, given the scenario's backlog.
    func filler(_ backlog: Filler) -> Filler {
        self == .enumerate ? Filler(groups: 10_000, filesPerGroup: 1) : backlog
    }

    /// How many files the subject group holds, and whether it is resumed.
    private var subjectFiles: (count: Int, resumed: Bool) {
        switch self {
        case .createGroup, .addFiles1, .addFiles100, .cancel100, .enumerate: (0, false)
        case .resume: (1, false)
        case .status, .progress: (100, true)
        case .checkpoint: (1, true)
        case .claimNextFile, .completeFile: (Self.maxSamples + Self.warmup + 10, true)
        }
    }

    /// Builds the subject through the library: a normal-priority group with one job and its files
    /// (for checkpoint, the one file claimed).
    func subject(_ manager: QueueManager) throws(QueueError) -> Subject {
        let group = try manager.createGroup(properties: GroupProperties(displayName: "subject"))
        let job = try group.createJob()
        let names = FileNames("\(self)")
        let (count, resumed) = subjectFiles
        if count > 0 { try job.addFiles(names.specs(count)) }
        if resumed { try group.resume() }
        let claimed = self == .checkpoint ? try manager.transferLedger.claimNextFile()?.fileRowID : nil
        return Subject(group: group.id, job: job.id, names: names, claimedFile: claimed)
    }
}

/// The group a benchmark acts on.
package struct Subject {
    let group: GroupID
    let job: JobID
    let names: FileNames
    let claimedFile: Int64?
}
