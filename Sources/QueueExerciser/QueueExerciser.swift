import ArgumentParser
import BackgroundCopy
import Foundation

/// `QueueExerciser` (test support, never a product): issues a fixed mix of API calls on the queue,
/// as fast as it can, and prints a JSON ledger of what it did. The two-process tests run two of
/// these at once on one database and check that every acknowledged change is there and no call failed.
@main
struct QueueExerciser: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue a mix of queue calls and print a JSON ledger of them (for the two-process tests).")

    @Option(help: "The queue database.")
    var db: String

    @Option(help: "How many API calls to make.")
    var calls = 1000

    @Option(help: "A tag naming this process's groups and files.")
    var tag: String

    @Option(help: "A job (of another group) that every process adds files to as well.")
    var sharedJob: String

    @Option(help: "The group that job belongs to.")
    var sharedGroup: String

    @Option(help: "The directory local paths are made in.")
    var directory: String

    @Option(help: "Wait until this time (Unix milliseconds) before the first call, so that processes start together.")
    var startAt = 0

    /// What one run did: enough for the test to check that nothing was lost.
    struct Ledger: Encodable {
        var calls = 0
        var failures: [String] = []
        /// Per group ID: files added, the last description set, whether it was cancelled.
        var groups: [String: GroupLedger] = [:]
        var sharedFiles = 0
        /// When the first call started and the last one ended, in Unix milliseconds.
        var started = 0
        var ended = 0
    }

    struct GroupLedger: Encodable {
        var files = 0
        var description = ""
        var cancelled = false
    }

    func run() throws {
        let manager = try QueueManager(path: db)
        guard let groupID = GroupID(sharedGroup), let jobID = JobID(sharedJob) else {
            throw ValidationError("--shared-group and --shared-job must be IDs")
        }
        let shared = try manager.group(groupID).job(jobID)
        var ledger = Ledger()
        while Self.now < startAt { usleep(1000) }
        ledger.started = Self.now
        var live: [Group] = []
        var jobs: [GroupID: Job] = [:]
        var serial = 0
        func call(_ body: () throws(QueueError) -> Void) {
            ledger.calls += 1
            do throws(QueueError) {
                try body()
            } catch {
                ledger.failures.append("\(error)")
            }
        }
        while ledger.calls < calls {
            serial += 1
            let local = "\(directory)/\(tag)-\(serial)"
            let slot = serial % 10
            if live.isEmpty || (slot == 0 && live.count < 20) {
                call { () throws(QueueError) in
                    let group = try manager.createGroup(properties: GroupProperties(displayName: "\(tag) \(serial)"))
                    jobs[group.id] = try group.createJob()
                    live.append(group)
                    ledger.groups[group.id.description] = GroupLedger()
                }
                continue
            }
            let group = live[serial % live.count]
            let key = group.id.description
            switch slot {
            case 1, 6:
                call { () throws(QueueError) in
                    try jobs[group.id]!.addFiles([FileSpec(remote: "https://example.test/\(tag)/\(serial)", local: local)])
                    ledger.groups[key]!.files += 1
                }
            case 2, 7:
                call { () throws(QueueError) in
                    try shared.addFiles([FileSpec(remote: "https://example.test/shared/\(tag)/\(serial)", local: local)])
                    ledger.sharedFiles += 1
                }
            case 3:
                let description = "\(tag) revision \(serial)"
                call { () throws(QueueError) in
                    var properties = try group.properties()
                    properties.description = description
                    try group.setProperties(properties)
                    ledger.groups[key]!.description = description
                }
            case 4:
                let resume = serial % 20 != 4 && ledger.groups[key]!.files > 0
                call { () throws(QueueError) in try resume ? group.resume() : group.suspend() }
            case 8 where live.count > 5:
                live.removeAll { $0 == group }
                call { () throws(QueueError) in
                    try group.cancel()
                    ledger.groups[key]!.cancelled = true
                }
            default:
                call { () throws(QueueError) in
                    _ = try manager.groups()
                    _ = try group.status()
                }
            }
        }
        ledger.ended = Self.now
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(ledger), as: UTF8.self))
    }

    private static var now: Int { Int(Date().timeIntervalSince1970 * 1000) }
}
