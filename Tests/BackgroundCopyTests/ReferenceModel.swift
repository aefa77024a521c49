import Foundation
@testable import BackgroundCopy

/// A pure-Swift reference model of the queue's group / job / file state machine: no SQLite, no
/// library types but the plain state enums. `ModelBasedTests` (through `SequenceRunner`) applies
/// the same random operations to it and to a real ``QueueManager`` and compares every outcome and
/// the resulting state.
///
/// The rules are those of DESIGN.md ("Object model and states", "Operations") as the library's
/// doc comments and store operations refine them:
/// - every call validates its input first (`invalidArgument` / `accessDenied` before `notFound`);
/// - a cancelled group is a tombstone: invisible, its ID taken forever (even after a purge);
///   a cancelled job is invisible, its ID taken until its tombstone is purged;
/// - cancelling keeps complete (and finalizing) files as `retained`, the rest become `discarded`;
///   cancelling one job settles its group (complete when nothing is pending, suspended when it has
///   no file left or its failed file went with the job);
/// - the engine claims, per group in state queued/transferring (by priority, then creation), the
///   first `queued` file of its live jobs in order, unless one of its files is already in flight
///   (one file per group, the engine's default); the steps after a claim (checkpoint, finalize, fail) only act on a file that is
///   still `transferring` in a `transferring` group;
/// - file row IDs follow SQLite's AUTOINCREMENT rule (one more than the largest ever committed,
///   never reused, even after a purge), so the model also predicts the IDs the engine sees;
/// - a group's last error is reported only while the group is in error (GroupStatus, JobStatus),
///   and names the file that failed, never a later file that reuses its row ID after a purge.
///
/// On PostgreSQL the engine's steps follow its lease rules where they differ (README, "Many
/// hosts"): a claim takes the next queued file whatever its group has in flight (per-group limits
/// across hosts are not there yet), a suspend takes the group's transferring files back to
/// `queued` with their leases, a step acts on a file whose token this host's ledger holds, in the
/// state the step needs, whatever its group's state; the ledger forgets the token when such a step
/// is refused (it takes that for a lost lease), and a release hands back a finalizing file too.
struct ReferenceModel {
    /// The backend whose engine rules apply.
    let backend: Backend
    /// Every group ever created, in creation order, tombstones included.
    private(set) var groups: [Group] = []
    /// Every job not purged, in creation order (cancelled ones included).
    private(set) var jobs: [Job] = []
    /// The events outbox, in sequence order.
    private(set) var events: [Event] = []
    /// The largest file row ID ever committed: row IDs are AUTOINCREMENT, never reused.
    private var lastFileRowID: Int64 = 0
    /// PostgreSQL: the files whose lease token this host's ledger holds.
    private var held: Set<Int64> = []

    static let pendingStates: Set<FileState> = [.queued, .transferring, .finalizing, .error]

    init(backend: Backend) { self.backend = backend }

    // MARK: Lookups

    func group(_ id: UUID) -> Group? { groups.first { $0.id == id } }

    private func liveGroupIndex(_ id: UUID) -> Int? {
        groups.firstIndex { $0.id == id && $0.state != .cancelled }
    }

    /// A live job of a live group (QueueCore.liveJob).
    private func liveJobIndex(group: UUID, job: UUID) -> (group: Int, job: Int)? {
        guard let groupIndex = liveGroupIndex(group),
            let jobIndex = jobs.firstIndex(where: { $0.id == job && $0.group == group && !$0.cancelled })
        else { return nil }
        return (groupIndex, jobIndex)
    }

    var liveGroups: [Group] { groups.filter { $0.state != .cancelled } }
    var cancelledGroups: [Group] { groups.filter { $0.state == .cancelled } }

    /// The group's live jobs in creation order.
    func activeJobs(of group: UUID) -> [Job] { jobs.filter { $0.group == group && !$0.cancelled } }

    /// Where the file with this row ID is, if it exists.
    func locate(_ rowID: Int64) -> (job: Int, file: Int)? {
        for (jobIndex, job) in jobs.enumerated() {
            if let fileIndex = job.files.firstIndex(where: { $0.rowID == rowID }) { return (jobIndex, fileIndex) }
        }
        return nil
    }

    func file(_ rowID: Int64) -> File? { locate(rowID).map { jobs[$0.job].files[$0.file] } }

    var allFiles: [File] { jobs.flatMap(\.files) }

    private func hasPending(group: UUID) -> Bool {
        activeJobs(of: group).contains { $0.files.contains { Self.pendingStates.contains($0.state) } }
    }

    /// Still claimed: `transferring` in a `transferring` group (TransferLedger.claimedGroup); on
    /// PostgreSQL, held by this host's ledger and `transferring`, in any group (a held file in
    /// another state is forgotten).
    private mutating func isClaimed(_ rowID: Int64) -> (job: Int, file: Int, group: Int)? {
        guard backend == .sqlite || held.contains(rowID) else { return nil }
        guard let (jobIndex, fileIndex) = locate(rowID), jobs[jobIndex].files[fileIndex].state == .transferring,
            let groupIndex = groups.firstIndex(where: { $0.id == jobs[jobIndex].group }),
            backend == .postgres || groups[groupIndex].state == .transferring
        else {
            held.remove(rowID)
            return nil
        }
        return (jobIndex, fileIndex, groupIndex)
    }

    private mutating func record(_ kind: String, group: UUID, job: UUID? = nil, fileIndex: Int? = nil) {
        events.append(Event(group: group, job: job, fileIndex: fileIndex, kind: kind))
    }

    // MARK: Queue operations

    /// createGroup: validation, then `alreadyExists` for any ID ever used (tombstones included).
    mutating func createGroup(id: UUID, priority: Priority, validProperties: Bool) -> Outcome {
        guard validProperties else { return .failed(.invalidArgument) }
        guard group(id) == nil else { return .failed(.alreadyExists) }
        groups.append(Group(id: id, priority: priority))
        record("groupCreated", group: id)
        return .ok
    }

    /// createJob: `notFound` unless the group is live, then `alreadyExists` for any job ID not purged.
    mutating func createJob(group: UUID, id: UUID) -> Outcome {
        guard liveGroupIndex(group) != nil else { return .failed(.notFound) }
        guard !jobs.contains(where: { $0.id == id }) else { return .failed(.alreadyExists) }
        jobs.append(Job(id: id, group: group))
        record("modified", group: group, job: id)
        return .ok
    }

    /// addFiles: every spec validated in order (then duplicates within the batch), then the live
    /// job looked up, then local paths already used by a live file refused; all or nothing. A
    /// complete group has work again and becomes suspended.
    mutating func addFiles(group: UUID, job: UUID, specs: [Spec]) -> Outcome {
        guard !specs.isEmpty else { return .failed(.invalidArgument) }
        var seen: Set<String> = []
        for spec in specs {
            switch spec.kind {
            case .good: break
            case .badScheme, .relativeLocal, .localIsDirectory: return .failed(.invalidArgument)
            case .missingDirectory: return .failed(.accessDenied)
            }
            guard seen.insert(spec.local).inserted else { return .failed(.invalidArgument) }
        }
        guard let (groupIndex, jobIndex) = liveJobIndex(group: group, job: job) else { return .failed(.notFound) }
        let live = Set(allFiles.filter { !$0.state.isCancelled }.map(\.local))
        guard specs.allSatisfy({ !live.contains($0.local) }) else { return .failed(.invalidArgument) }
        var nextRowID = lastFileRowID + 1
        var position = jobs[jobIndex].files.count
        for spec in specs {
            jobs[jobIndex].files.append(
                File(
                    rowID: nextRowID, position: position, remote: spec.remote, local: spec.local,
                    sizeHint: spec.sizeHint, content: spec.content, state: .queued))
            lastFileRowID = nextRowID
            nextRowID += 1
            position += 1
        }
        if groups[groupIndex].state == .complete { groups[groupIndex].state = .suspended }
        record("modified", group: group, job: job)
        return .ok
    }

    /// suspend: queued or transferring → suspended; a no-op otherwise (already suspended).
    mutating func suspend(_ id: UUID) -> Outcome {
        guard let index = liveGroupIndex(id) else { return .failed(.notFound) }
        guard groups[index].state == .queued || groups[index].state == .transferring else { return .ok }
        groups[index].state = .suspended
        if backend == .postgres {
            for jobIndex in jobs.indices where jobs[jobIndex].group == id && !jobs[jobIndex].cancelled {
                for fileIndex in jobs[jobIndex].files.indices where jobs[jobIndex].files[fileIndex].state == .transferring {
                    jobs[jobIndex].files[fileIndex].state = .queued
                }
            }
        }
        record("modified", group: id)
        return .ok
    }

    /// resume: a no-op when queued or transferring; `empty` (nothing changed) when no live job has
    /// a pending file; else failed files are retried, the error cleared and the group queued.
    mutating func resume(_ id: UUID) -> Outcome {
        guard let index = liveGroupIndex(id) else { return .failed(.notFound) }
        guard groups[index].state != .queued && groups[index].state != .transferring else { return .ok }
        guard hasPending(group: id) else { return .failed(.empty) }
        for jobIndex in jobs.indices where jobs[jobIndex].group == id && !jobs[jobIndex].cancelled {
            for fileIndex in jobs[jobIndex].files.indices where jobs[jobIndex].files[fileIndex].state == .error {
                jobs[jobIndex].files[fileIndex].state = .queued
            }
        }
        groups[index].state = .queued
        groups[index].lastError = nil
        record("modified", group: id)
        return .ok
    }

    mutating func switchToForeground(_ id: UUID) -> Outcome {
        guard let index = liveGroupIndex(id) else { return .failed(.notFound) }
        guard groups[index].priority != .foreground else { return .ok }
        groups[index].priority = .foreground
        record("modified", group: id)
        return .ok
    }

    /// setProperties with a new priority (valid properties: only `notFound` can go wrong).
    mutating func setPriority(_ id: UUID, _ priority: Priority) -> Outcome {
        guard let index = liveGroupIndex(id) else { return .failed(.notFound) }
        groups[index].priority = priority
        record("modified", group: id)
        return .ok
    }

    /// The one cancel rule for the files of a job: complete and finalizing → retained, the rest
    /// discarded; the job a tombstone.
    private mutating func cancelFiles(ofJob jobIndex: Int) {
        for fileIndex in jobs[jobIndex].files.indices {
            switch jobs[jobIndex].files[fileIndex].state {
            case .complete, .finalizing: jobs[jobIndex].files[fileIndex].state = .retained
            case .retained, .discarded: break
            case .queued, .transferring, .error: jobs[jobIndex].files[fileIndex].state = .discarded
            }
        }
        jobs[jobIndex].cancelled = true
    }

    mutating func cancelGroup(_ id: UUID) -> Outcome {
        guard let index = liveGroupIndex(id) else { return .failed(.notFound) }
        for jobIndex in jobs.indices where jobs[jobIndex].group == id && !jobs[jobIndex].cancelled {
            cancelFiles(ofJob: jobIndex)
        }
        groups[index].state = .cancelled
        record("cancelled", group: id)
        return .ok
    }

    /// Job.cancel: the group keeps its state (as the library documents).
    mutating func cancelJob(group: UUID, job: UUID) -> Outcome {
        guard let (groupIndex, jobIndex) = liveJobIndex(group: group, job: job) else { return .failed(.notFound) }
        cancelFiles(ofJob: jobIndex)
        settleAfterJobCancel(groupIndex)
        record("jobCancelled", group: group, job: job)
        return .ok
    }

    /// GroupSettlement.afterJobCancel: a group with files but none pending is complete; one with no
    /// file left (queued, transferring or in error) is suspended; one in error whose failed file
    /// went with the job is suspended, its error cleared.
    private mutating func settleAfterJobCancel(_ groupIndex: Int) {
        let id = groups[groupIndex].id
        let files = activeJobs(of: id).flatMap(\.files)
        let state = groups[groupIndex].state
        if !files.isEmpty, !hasPending(group: id), [.queued, .transferring, .suspended, .error].contains(state) {
            groups[groupIndex].state = .complete
            groups[groupIndex].lastError = nil
            record("groupComplete", group: id)
            return
        }
        let emptied = files.isEmpty && [.queued, .transferring, .error].contains(state)
        let unfailed = state == .error && !files.contains { $0.state == .error }
        guard emptied || unfailed else { return }
        groups[groupIndex].state = .suspended
        groups[groupIndex].lastError = nil
    }

    /// purgeTombstones: with a cutoff after every cancellation, every cancelled job goes (with its
    /// files and events) and cancelled groups lose their events but keep their row; the count is of
    /// cancelled groups not purged before plus cancelled jobs of live groups. Before every
    /// cancellation: nothing.
    mutating func purgeTombstones(cutoffAfterEveryCancellation: Bool) -> Outcome {
        guard cutoffAfterEveryCancellation else { return .purged(0) }
        let groupsPurged = groups.filter { $0.state == .cancelled && !$0.purged }.count
        let liveGroupIDs = Set(liveGroups.map(\.id))
        let jobsPurged = jobs.filter { $0.cancelled && liveGroupIDs.contains($0.group) }.count
        let gone = Set(jobs.filter(\.cancelled).map(\.id))
        jobs.removeAll { $0.cancelled }
        let tombstones = Set(cancelledGroups.map(\.id))
        events.removeAll { tombstones.contains($0.group) || ($0.job.map(gone.contains) ?? false) }
        for index in groups.indices where groups[index].state == .cancelled { groups[index].purged = true }
        return .purged(groupsPurged + jobsPurged)
    }

    // MARK: Engine steps (TransferLedger)

    /// claimNextFile: see the type's comment. The file becomes transferring with its temp path
    /// recorded (kept from an earlier claim), its group transferring.
    mutating func claimNextFile() -> Outcome {
        let order = groups.indices
            .filter { groups[$0].state == .queued || groups[$0].state == .transferring }
            .sorted { (groups[$0].priority.rawValue, $0) < (groups[$1].priority.rawValue, $1) }
        for groupIndex in order {
            let id = groups[groupIndex].id
            let inFlight = activeJobs(of: id).contains {
                $0.files.contains { $0.state == .transferring || $0.state == .finalizing }
            }
            guard !inFlight || backend == .postgres else { continue }
            var first: (job: Int, file: Int)?
            search: for jobIndex in jobs.indices where jobs[jobIndex].group == id && !jobs[jobIndex].cancelled {
                for fileIndex in jobs[jobIndex].files.indices where jobs[jobIndex].files[fileIndex].state == .queued {
                    first = (jobIndex, fileIndex)
                    break search
                }
            }
            guard let (jobIndex, fileIndex) = first else { continue }
            var file = jobs[jobIndex].files[fileIndex]
            file.state = .transferring
            file.tempPath = file.tempPath ?? Self.tempPath(local: file.local, rowID: file.rowID)
            if backend == .postgres { held.insert(file.rowID) }
            jobs[jobIndex].files[fileIndex] = file
            if groups[groupIndex].state == .queued { groups[groupIndex].state = .transferring }
            return .claim(
                Claimed(
                    fileRowID: file.rowID, group: id, remote: file.remote, local: file.local,
                    tempPath: file.tempPath!, bytesDone: file.bytesDone, bytesTotal: file.bytesTotal))
        }
        return .claim(nil)
    }

    /// checkpoint: `false` unless still claimed; the schema's CHECK (bytes_done <= bytes_total)
    /// makes an impossible checkpoint a `storage` error that changes nothing. Only bytes that
    /// advanced are reported as a `progress` event.
    mutating func checkpoint(_ rowID: Int64, bytesDone: UInt64, bytesTotal: UInt64?) -> Outcome {
        guard let (jobIndex, fileIndex, groupIndex) = isClaimed(rowID) else { return .flag(false) }
        let total = bytesTotal ?? jobs[jobIndex].files[fileIndex].bytesTotal
        if let total, bytesDone > total { return .failed(.storage) }
        let advanced = bytesDone > jobs[jobIndex].files[fileIndex].bytesDone
        jobs[jobIndex].files[fileIndex].bytesDone = bytesDone
        jobs[jobIndex].files[fileIndex].bytesTotal = total
        if advanced {
            record("progress", group: groups[groupIndex].id, job: jobs[jobIndex].id, fileIndex: jobs[jobIndex].files[fileIndex].position)
        }
        return .flag(true)
    }

    mutating func beginFinalizing(_ rowID: Int64, bytesTotal: UInt64) -> Outcome {
        guard let (jobIndex, fileIndex, _) = isClaimed(rowID) else { return .flag(false) }
        jobs[jobIndex].files[fileIndex].state = .finalizing
        jobs[jobIndex].files[fileIndex].bytesDone = bytesTotal
        jobs[jobIndex].files[fileIndex].bytesTotal = bytesTotal
        return .flag(true)
    }

    /// complete: `invalidState` unless finalizing; then the file is complete, and its job and
    /// group too when nothing of them is pending (the group whatever its state, auto-suspended).
    mutating func complete(_ rowID: Int64) -> Outcome {
        if backend == .postgres {
            guard held.contains(rowID) else { return .failed(.invalidState) }
            // A transferring file keeps its lease (the step is refused as too early); any other is given up.
            if file(rowID)?.state != .transferring { held.remove(rowID) }
        }
        guard let (jobIndex, fileIndex) = locate(rowID), jobs[jobIndex].files[fileIndex].state == .finalizing else {
            return .failed(.invalidState)
        }
        jobs[jobIndex].files[fileIndex].state = .complete
        jobs[jobIndex].files[fileIndex].tempPath = nil
        let group = jobs[jobIndex].group
        record("fileComplete", group: group, job: jobs[jobIndex].id, fileIndex: jobs[jobIndex].files[fileIndex].position)
        guard !jobs[jobIndex].files.contains(where: { Self.pendingStates.contains($0.state) }) else { return .ok }
        record("jobComplete", group: group, job: jobs[jobIndex].id)
        guard !hasPending(group: group), let groupIndex = liveGroupIndex(group) else { return .ok }
        groups[groupIndex].state = .complete
        record("groupComplete", group: group)
        return .ok
    }

    /// The engine's usual path after the last checkpoint: beginFinalizing, rename, complete.
    mutating func finish(_ rowID: Int64, bytesTotal: UInt64) -> Outcome {
        guard beginFinalizing(rowID, bytesTotal: bytesTotal) == .flag(true) else { return .flag(false) }
        let completed = complete(rowID)
        return completed == .ok ? .flag(true) : completed
    }

    /// fail: `false` unless still claimed; the file in error, its group in error with the failure recorded.
    mutating func fail(_ rowID: Int64) -> Outcome {
        defer { held.remove(rowID) }
        guard let (jobIndex, fileIndex, groupIndex) = isClaimed(rowID) else { return .flag(false) }
        jobs[jobIndex].files[fileIndex].state = .error
        groups[groupIndex].state = .error
        groups[groupIndex].errorCount += 1
        groups[groupIndex].lastError = (jobs[jobIndex].id, jobs[jobIndex].files[fileIndex].position, rowID)
        record("groupError", group: groups[groupIndex].id, job: jobs[jobIndex].id, fileIndex: jobs[jobIndex].files[fileIndex].position)
        return .flag(true)
    }

    /// release: a transferring file goes back to queued, its bytes kept; anything else is untouched.
    /// Every transferring group left with no file in flight waits as `queued` again. On
    /// PostgreSQL a finalizing file goes back too, and only the released file's group may wait.
    mutating func release(_ rowID: Int64) -> Outcome {
        let releasable: Set<FileState> = backend == .sqlite ? [.transferring] : held.remove(rowID) == nil ? [] : [.transferring, .finalizing]
        var released: UUID?
        if let (jobIndex, fileIndex) = locate(rowID), releasable.contains(jobs[jobIndex].files[fileIndex].state) {
            jobs[jobIndex].files[fileIndex].state = .queued
            released = jobs[jobIndex].group
        }
        for index in groups.indices where groups[index].state == .transferring && (backend == .sqlite || groups[index].id == released) {
            let inFlight = activeJobs(of: groups[index].id).contains {
                $0.files.contains { $0.state == .transferring || $0.state == .finalizing }
            }
            if !inFlight { groups[index].state = .queued }
        }
        return .ok
    }
}
