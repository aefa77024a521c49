#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The last steps of a verified file (DESIGN.md, Durability step 3), taken together by the files
/// that reach them at the same time: one transaction records every file's intent `finalizing`,
/// their temp files are renamed into place, one directory fsync per directory covers the renames,
/// and one transaction commits every file `complete`.
///
/// Each file's own order is kept: its temp file was fsynced before it came here, its rename and
/// the directory fsync come before its `complete` commits. Files that arrive while a batch runs
/// form the next one (group commit, one level up): a worker whose file is in no batch yet leads
/// the next, the others wait for their outcome.
final class FinishingLine: Sendable {
    /// A file whose bytes are fsynced and checked, ready to be moved into place.
    struct Item: Sendable {
        let claim: Claim
        let directory: OpenDirectory
        let bytes: UInt64
    }

    private enum Turn: Sendable {
        case lead
        case done(Result<Void, QueueError>)
    }

    private struct Waiting {
        let item: Item
        let waiter: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var leading = false
        var waiting: [Waiting] = []
    }

    private let state = Mutex(State())

    /// Finalizes, renames and completes the file of `item`; returns once its `complete` has
    /// committed, or at once if it was cancelled while finalizing (it is retained where it is).
    /// - Throws: ``TransferSink/stopped`` if the file is no longer claimed; the rename's or the
    ///   directory fsync's `fileSystem` error; `storage` if the database fails.
    func finish(_ item: Item, context: EngineContext) async throws(QueueError) {
        let turn = await withCheckedContinuation { (waiter: CheckedContinuation<Turn, Never>) in
            let lead = state.withLock { state -> Bool in
                guard state.leading else {
                    state.leading = true
                    return true
                }
                state.waiting.append(Waiting(item: item, waiter: waiter))
                return false
            }
            if lead { waiter.resume(returning: .lead) }
        }
        if case .done(let result) = turn { return try result.get() }
        let others = state.withLock { state -> [Waiting] in
            defer { state.waiting = [] }
            return state.waiting
        }
        let results = await FinishingLine.finish([item] + others.map(\.item), context: context)
        for (other, result) in zip(others, results.dropFirst()) { other.waiter.resume(returning: .done(result)) }
        let next = state.withLock { state -> Waiting? in
            guard !state.waiting.isEmpty else {
                state.leading = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.waiter.resume(returning: .lead)
        try results[0].get()
    }

    /// One batch: the outcome of each item, in order.
    private static func finish(_ items: [Item], context: EngineContext) async -> [Result<Void, QueueError>] {
        var results = [Result<Void, QueueError>](repeating: .success(()), count: items.count)
        let begun: [Bool]
        do throws(QueueError) {
            begun = try await context.patiently("finalize") { () async throws(QueueError) -> [Bool] in
                try await context.ledger.beginFinalizing(items.map { ($0.claim.fileRowID, $0.bytes) })
            }
        } catch {
            return results.map { _ in .failure(error) }
        }
        var live: [Int] = []
        for (index, ok) in begun.enumerated() {
            if ok { live.append(index) } else { results[index] = .failure(TransferSink.stopped) }
        }
        if Mutant.completeBeforeRename.isActive {
            _ = try? await context.ledger.complete(live.map { items[$0].claim.fileRowID })  // the seeded bug: its rename tells the outcome
        }
        let fileSystem = context.fileSystem
        let moves = live.map { (items[$0].claim.tempPath.lastComponent, items[$0].claim.local, items[$0].directory) }
        let syncDirectories = !Mutant.skipRenameDirectoryFsync.isActive
        // The renames, then — on the same file thread — an fsync of each directory no other fsync
        // of is running; the others wait for their directory's next shared one below.
        let (renamed, syncedHere) = await FileThreads.run { () -> ([QueueError?], [ObjectIdentifier: Result<Void, QueueError>]) in
            let renamed = moves.map { temp, local, directory -> QueueError? in
                do throws(QueueError) {
                    try fileSystem.rename(temp, to: local.lastComponent, in: directory.file)
                    return nil
                } catch {
                    // A cancel committed meanwhile may have finished the rename itself.
                    let done = error.systemError == ENOENT && (try? fileSystem.kind(of: local)) == .regular  // unreadable: the rename's error stands
                    return done ? nil : error
                }
            }
            var synced: [ObjectIdentifier: Result<Void, QueueError>] = [:]
            for ((_, _, directory), failure) in zip(moves, renamed) where syncDirectories && failure == nil {
                if synced[ObjectIdentifier(directory)] == nil, let outcome = directory.syncIfIdle() {
                    synced[ObjectIdentifier(directory)] = outcome
                }
            }
            return (renamed, synced)
        }
        for (index, failure) in zip(live, renamed) { if let failure { results[index] = .failure(failure) } }
        live = live.filter { results[$0].isSuccess }
        if syncDirectories {
            var synced = syncedHere
            for index in live {
                let directory = items[index].directory
                if synced[ObjectIdentifier(directory)] == nil {
                    synced[ObjectIdentifier(directory)] = await Result { () async throws(QueueError) in try await directory.sync() }
                }
                if case .failure(let error) = synced[ObjectIdentifier(directory)] { results[index] = .failure(error) }
            }
            live = live.filter { results[$0].isSuccess }
        }
        if Mutant.completeBeforeRename.isActive { return results }
        // Renamed: from here on only `complete` may follow, however long the database needs.
        do throws(QueueError) {
            let refusals = try await context.patiently("complete") { () async throws(QueueError) -> [QueueError?] in
                try await context.ledger.complete(live.map { items[$0].claim.fileRowID })
            }
            // A file cancelled while finalizing is retained where it now is: not a failure.
            for (index, refusal) in zip(live, refusals) where refusal?.code != .invalidState {
                if let refusal { results[index] = .failure(refusal) }
            }
        } catch {
            for index in live { results[index] = .failure(error) }
        }
        return results
    }
}

extension Result {
    fileprivate var isSuccess: Bool {
        if case .success = self { true } else { false }
    }

    fileprivate init(_ body: () async throws(Failure) -> Success) async {
        do throws(Failure) {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
