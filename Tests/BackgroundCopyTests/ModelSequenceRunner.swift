import Foundation
import Logging
@testable import BackgroundCopy

/// One operation of a sequence. IDs are UUIDs (live, cancelled, purged or never used); engine
/// steps name a file by its row ID, as the engine does.
enum ModelOperation: CustomStringConvertible {
    case createGroup(id: UUID?, priority: Priority, validProperties: Bool)
    case createJob(group: UUID, job: UUID?)
    case addFiles(group: UUID, job: UUID, specs: [ReferenceModel.Spec])
    case suspend(UUID)
    case resume(UUID)
    case switchToForeground(UUID)
    case setPriority(UUID, Priority)
    case cancelGroup(UUID)
    case cancelJob(group: UUID, job: UUID)
    case purgeTombstones(cutoffAfterEveryCancellation: Bool)
    case claimNextFile
    case checkpoint(file: Int64, bytesDone: UInt64, bytesTotal: UInt64?)
    case beginFinalizing(file: Int64, bytesTotal: UInt64)
    case complete(file: Int64)
    case finish(file: Int64, bytesTotal: UInt64)
    case fail(file: Int64)
    case release(file: Int64)

    /// The operation's name alone, for tallies.
    var name: String {
        switch self {
        case .createGroup: "createGroup"
        case .createJob: "createJob"
        case .addFiles: "addFiles"
        case .suspend: "suspend"
        case .resume: "resume"
        case .switchToForeground: "switchToForeground"
        case .setPriority: "setProperties"
        case .cancelGroup: "cancel group"
        case .cancelJob: "cancel job"
        case .purgeTombstones: "purgeTombstones"
        case .claimNextFile: "claimNextFile"
        case .checkpoint: "checkpoint"
        case .beginFinalizing: "beginFinalizing"
        case .complete: "complete"
        case .finish: "finalize and complete"
        case .fail: "fail"
        case .release: "release"
        }
    }

    var description: String {
        let s = ReferenceModel.short
        return switch self {
        case .createGroup(let id, let priority, let valid):
            "createGroup(id: \(id.map(s) ?? "nil"), priority: \(priority)\(valid ? "" : ", empty display name"))"
        case .createJob(let group, let job): "group \(s(group)).createJob(id: \(job.map(s) ?? "nil"))"
        case .addFiles(let group, let job, let specs): "group \(s(group)) job \(s(job)).addFiles(\(specs))"
        case .suspend(let group): "group \(s(group)).suspend()"
        case .resume(let group): "group \(s(group)).resume()"
        case .switchToForeground(let group): "group \(s(group)).switchToForeground()"
        case .setPriority(let group, let priority): "group \(s(group)).setProperties(priority: \(priority))"
        case .cancelGroup(let group): "group \(s(group)).cancel()"
        case .cancelJob(let group, let job): "group \(s(group)) job \(s(job)).cancel()"
        case .purgeTombstones(let after): "purgeTombstones(olderThan: \(after ? "in an hour" : "1970"))"
        case .claimNextFile: "engine.claimNextFile()"
        case .checkpoint(let file, let done, let total):
            "engine.checkpoint(#\(file), bytesDone: \(done), bytesTotal: \(total.map(String.init) ?? "nil"))"
        case .beginFinalizing(let file, let total): "engine.beginFinalizing(#\(file), bytesTotal: \(total))"
        case .complete(let file): "engine.complete(#\(file))"
        case .finish(let file, let total): "engine.beginFinalizing(#\(file), bytesTotal: \(total)) + rename + complete"
        case .fail(let file): "engine.fail(#\(file))"
        case .release(let file): "engine.release(#\(file))"
        }
    }
}

/// Runs one seeded sequence against a fresh queue and the model.
final class SequenceRunner {
    let seed: UInt64
    var rng: SplitMix64
    var model: ReferenceModel
    let scratch: Scratch
    let queue: any ModelQueue
    /// Every job ID ever used, with its group, so cancelled and purged ones can be picked again.
    var jobHistory: [(group: UUID, job: UUID)] = []
    /// Every file row ID the engine was handed, so stale claims can be replayed.
    var claimed: [Int64] = []
    var log: [String] = []
    var tally: [String: Int] = [:]
    var everUsedRowIDs: Set<Int64> = []

    static let names = (0..<24).map { "f\($0)" }

    /// The settings of every sequence's queue: the model checks semantics, not power-loss
    /// durability; relaxed commits keep 45,000 calls fast.
    static var configuration: QueueManager.Configuration {
        var configuration = QueueManager.Configuration()
        configuration.durability = .relaxed
        return configuration
    }

    static let quiet = Logger(label: "model-based") { _ in SwiftLogNoOpLogHandler() }

    /// A scratch directory with the `sub` directory the specs use.
    static func scratch() throws -> Scratch {
        let scratch = Scratch()
        try FileManager.default.createDirectory(atPath: scratch.path("sub"), withIntermediateDirectories: false)
        return scratch
    }

    /// Runs the sequence of `seed` against a fresh SQLite queue.
    static func run(seed: UInt64) -> SequenceResult {
        do {
            let scratch = try scratch()
            let manager = try QueueManager(path: scratch.database, configuration: configuration, logger: quiet)
            let queue = try SQLiteModelQueue(manager: manager, database: scratch.database)
            return SequenceRunner(seed: seed, scratch: scratch, queue: queue).run()
        } catch {
            return SequenceResult(seed: seed, operations: 0, failure: "seed \(seed): could not set up: \(error)")
        }
    }

    init(seed: UInt64, scratch: Scratch, queue: any ModelQueue) {
        self.seed = seed
        rng = SplitMix64(seed: seed)
        model = ReferenceModel(backend: queue.backend)
        self.scratch = scratch
        self.queue = queue
    }

    func run() -> SequenceResult {
        let count = 30 + rng.below(31)
        for index in 0..<count {
            let operation = nextOperation()
            log.append("  \(index): \(operation)")
            let problem: String?
            let errorGroups = Set(model.liveGroups.filter { $0.state == .error }.map(\.id))
            do {
                problem = try apply(operation) ?? compareState()
                for id in errorGroups where model.group(id)?.state == .complete {
                    tally["a group in error became complete (its error recorded)", default: 0] += 1
                }
                for group in model.groups { tally["group reached \(group.state.rawValue)", default: 0] += 1 }
            } catch {
                problem = "the harness failed: \(error)"
            }
            if let problem {
                return SequenceResult(
                    seed: seed, operations: index + 1,
                    failure: """
                        model-based (\(queue.backend)): seed \(seed), operation \(index): \(operation)
                        \(problem)
                        Replay: BGCOPY_MODEL_SEED=\(seed) swift test --filter ModelBasedTests
                        Operations:
                        \(log.joined(separator: "\n"))
                        Model after the operation:
                        \(model.dump)
                        """, tally: tally)
            }
        }
        return SequenceResult(seed: seed, operations: count, failure: nil, tally: tally)
    }

    // MARK: Generating operations

    /// A weighted random operation. Targets are mostly live objects in a useful state, so that
    /// groups get through their whole life; the rest name tombstones, stale claims or unknown IDs.
    func nextOperation() -> ModelOperation {
        let live = model.liveGroups
        // An empty queue mostly gets something to work on first.
        if live.isEmpty && rng.percent(60) {
            return .createGroup(id: groupIDForCreate(), priority: rng.pick(Priority.allCases), validProperties: true)
        }
        if !live.isEmpty && !live.contains(where: { !model.activeJobs(of: $0.id).isEmpty }) && rng.percent(50) {
            return .createJob(group: rng.pick(live).id, job: rng.uuid())
        }
        let roll = rng.below(100)
        switch roll {
        case 0..<4: return .createGroup(id: groupIDForCreate(), priority: rng.pick(Priority.allCases), validProperties: !rng.percent(5))
        case 4..<10: return .createJob(group: pickGroup(), job: jobIDForCreate())
        case 10..<26:
            let (group, job) = pickJob()
            return .addFiles(group: group, job: job, specs: makeSpecs())
        case 26..<30: return .suspend(pickGroup())
        case 30..<40:
            let resumable = live.filter { [.suspended, .error].contains($0.state) && model.currentJobIndex(group: $0.id) != nil }
            return .resume(!resumable.isEmpty && rng.percent(60) ? rng.pick(resumable).id : pickGroup())
        case 40..<42: return .switchToForeground(pickGroup())
        case 42..<44: return .setPriority(pickGroup(), rng.pick(Priority.allCases))
        case 44..<47: return .cancelGroup(pickGroup())
        case 47..<50:
            let (group, job) = pickJob()
            return .cancelJob(group: group, job: job)
        case 50..<52: return .purgeTombstones(cutoffAfterEveryCancellation: rng.percent(80))
        case 52..<64:
            var peek = model
            if peek.claimNextFile() == .claim(nil) && rng.percent(70) {
                let (group, job) = pickJob()  // nothing to claim: mostly give the queue work instead
                return .addFiles(group: group, job: job, specs: makeSpecs())
            }
            return .claimNextFile
        default:
            let held = model.allFiles.contains { $0.state == .transferring || $0.state == .finalizing }
            if !held && rng.percent(80) {
                // Nothing in flight: mostly start something (claim, or resume a group with work).
                var peek = model
                if peek.claimNextFile() != .claim(nil) { return .claimNextFile }
                let resumable = live.filter { [.suspended, .error].contains($0.state) && model.currentJobIndex(group: $0.id) != nil }
                if !resumable.isEmpty { return .resume(rng.pick(resumable).id) }
            }
            guard let file = pickFile(preferring: (81..<86).contains(roll) ? [.finalizing] : [.transferring]) else {
                let (group, job) = pickJob()  // no file yet
                return .addFiles(group: group, job: job, specs: makeSpecs())
            }
            let content = model.file(file)?.content ?? UInt64(rng.below(4096))
            switch roll {
            case 64..<74:
                if rng.percent(4) { return .checkpoint(file: file, bytesDone: content + 1, bytesTotal: content) }
                return .checkpoint(file: file, bytesDone: UInt64(rng.below(Int(content) + 1)), bytesTotal: rng.percent(75) ? content : nil)
            case 74..<77: return .fail(file: file)
            case 77..<81: return .beginFinalizing(file: file, bytesTotal: content)
            case 81..<86: return .complete(file: file)
            case 86..<96: return .finish(file: file, bytesTotal: content)
            default: return .release(file: file)
            }
        }
    }

    /// Mostly live groups; sometimes cancelled (tombstones) or never-used IDs, for the error paths.
    func pickGroup() -> UUID {
        let live = model.liveGroups.map(\.id)
        let cancelled = model.cancelledGroups.map(\.id)
        let roll = rng.below(100)
        if roll < 78, !live.isEmpty { return rng.pick(live) }
        if roll < 92, !cancelled.isEmpty { return rng.pick(cancelled) }
        return rng.uuid()
    }

    func groupIDForCreate() -> UUID? {
        let roll = rng.below(100)
        if roll < 10 { return nil }
        if roll < 25, !model.groups.isEmpty { return rng.pick(model.groups).id }
        return rng.uuid()
    }

    func jobIDForCreate() -> UUID? {
        let roll = rng.below(100)
        if roll < 10 { return nil }
        if roll < 25, !jobHistory.isEmpty { return rng.pick(jobHistory).job }
        return rng.uuid()
    }

    /// Mostly live jobs with their group; sometimes cancelled or purged jobs, a job under the wrong
    /// group, or an unknown job.
    func pickJob() -> (group: UUID, job: UUID) {
        let liveGroups = Set(model.liveGroups.map(\.id))
        let live = model.jobs.filter { !$0.cancelled && liveGroups.contains($0.group) }.map { ($0.group, $0.id) }
        let roll = rng.below(100)
        if roll < 75, !live.isEmpty { return rng.pick(live) }
        if roll < 87, !jobHistory.isEmpty { return rng.pick(jobHistory) }
        if roll < 94, !live.isEmpty { return (pickGroup(), rng.pick(live).1) }
        return (pickGroup(), rng.uuid())
    }

    /// Usually a file the engine holds in one of `states`; else any file claimed before (a stale
    /// claim), any file at all, or a row ID that does not exist.
    func pickFile(preferring states: Set<FileState>) -> Int64? {
        let files = model.allFiles
        let held = files.filter { states.contains($0.state) }.map(\.rowID)
        let roll = rng.below(100)
        if roll < 75, !held.isEmpty { return rng.pick(held) }
        if roll < 88, !claimed.isEmpty { return rng.pick(claimed) }
        if roll < 97, !files.isEmpty { return rng.pick(files).rowID }
        if files.isEmpty && claimed.isEmpty { return nil }
        return 10_000 + Int64(rng.below(100))
    }

    func makeSpecs() -> [ReferenceModel.Spec] {
        let count = rng.percent(4) ? 0 : 1 + rng.below(3)
        return (0..<count).map { _ in
            let name = rng.pick(Self.names)
            let roll = rng.below(100)
            let kind: ReferenceModel.SpecKind =
                switch roll {
                case 0..<3: .badScheme
                case 3..<5: .relativeLocal
                case 5..<7: .missingDirectory
                case 7..<9: .localIsDirectory
                default: .good
                }
            let local =
                switch kind {
                case .relativeLocal: "relative/\(name)"
                case .missingDirectory: scratch.path("missing/\(name)")
                case .localIsDirectory: scratch.path("sub")
                case .good, .badScheme: scratch.path(name)
                }
            let remote = kind == .badScheme ? "ftp://example.test/\(name)" : "https://example.test/\(name)"
            let content = rng.percent(5) ? 0 : UInt64(1 + rng.below(4096))
            let sizeHint: UInt64? =
                switch rng.below(10) {
                case 0..<4: nil
                case 4..<8: content
                default: UInt64(rng.below(8192))
                }
            return ReferenceModel.Spec(kind: kind, remote: remote, local: local, sizeHint: sizeHint, content: content)
        }
    }
}
