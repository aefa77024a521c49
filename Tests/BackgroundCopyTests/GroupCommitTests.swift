import CSQLite
import Dispatch
import Foundation
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Store: group commit, readers that never wait, async calls", .alongside)
struct GroupCommitTests {
    @Test func concurrentCallersAllCommitAndEventSequencesFollowCommitOrder() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let ids = try await withThrowingTaskGroup(of: GroupID.self) { tasks in
            for index in 0..<64 {
                tasks.addTask { try await manager.createGroup(properties: GroupProperties(displayName: "g\(index)")).id }
            }
            return try await tasks.reduce(into: Set<GroupID>()) { $0.insert($1) }
        }
        #expect(ids.count == 64)
        #expect(Set(try await manager.groups().map(\.id)) == ids)
        let created = try manager.recordedEvents().filter { $0.kind == .groupCreated }
        #expect(created.count == 64)
        #expect(created.map(\.sequence) == created.map(\.sequence).sorted())
        #expect(created.map(\.groupID) == (try await manager.groups().map(\.id)))
    }

    @Test func aFailedBodyRollsBackAloneWhileItsBatchCommits() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let store = manager.core.store
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { tasks in
            for index in 0..<48 {
                tasks.addTask {
                    do throws(QueueError) {
                        try await store.write { db throws(QueueError) in
                            try db.createGroup(GroupID(), GroupProperties(displayName: "call \(index)"), at: 0)
                            if index % 3 == 0 { throw QueueError(.invalidState, "call \(index) fails after writing") }
                        }
                        return (index, true)
                    } catch {
                        return (index, false)
                    }
                }
            }
            return await tasks.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes.count == 48)
        for (index, succeeded) in outcomes { #expect(succeeded == (index % 3 != 0), "call \(index)") }
        let names = await Set(try manager.groups().map { try $0.properties().displayName })
        #expect(names == Set((0..<48).filter { $0 % 3 != 0 }.map { "call \($0)" }))
    }

    @Test func aReadDoesNotWaitForAWriteInProgress() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "before"))
        let writing = DispatchSemaphore(value: 0)
        let readDone = DispatchSemaphore(value: 0)
        let sawReadFinish = Mutex(false)
        let committed = DispatchSemaphore(value: 0)
        let writer = Thread {
            defer { committed.signal() }
            try? manager.core.store.write { db throws(QueueError) in
                try db.setGroupProperties(group.id, GroupProperties(displayName: "during"), at: 0)
                writing.signal()
                // The write stays open until the read has finished (or 30 s pass, which fails the test).
                sawReadFinish.withLock { $0 = readDone.wait(timeout: .now() + 30) == .success }
            }
        }
        writer.start()
        writing.wait()
        let seen = try group.properties().displayName
        readDone.signal()
        #expect(seen == "before")
        #expect(committed.wait(timeout: .now() + 60) == .success)
        #expect(sawReadFinish.withLock { $0 })
        #expect(try group.properties().displayName == "during")
    }

    @Test func readsProceedWhileAnotherProcessHoldsTheWriteLock() throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try manager.createGroup(properties: GroupProperties(displayName: "g"))
        let lock = try RawLock(scratch.database)
        defer { lock.release() }
        #expect(try group.status().state == .suspended)
        #expect(try manager.groups().count == 1)
    }

    @Test func asyncAndBlockingFormsSeeTheSameQueue() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try await manager.createGroup(properties: GroupProperties(displayName: "async"))
        let job = try await group.createJob()
        try await job.addFiles(scratch.specs(3))
        #expect(try await job.fileCount() == 3)
        #expect(try await job.files().map(\.index) == [0, 1, 2])
        try await group.suspend()
        #expect(try await group.status().state == .suspended)
        try await group.cancel()
        await #expect(throws: QueueError.self) { try await manager.group(group.id) }
        await #expect(try manager.groups().isEmpty)
    }

    @Test func aCommitOfThisProcessWakesAChangeWaiterAtOnce() async throws {
        let scratch = Scratch()
        var configuration = QueueManager.Configuration()
        configuration.changePollInterval = .seconds(3600)
        let manager = try scratch.open(configuration)
        let store = manager.core.store
        let before = try store.changeStamp()
        let waiter = Task { try await store.waitForChange(since: before, pollInterval: .seconds(3600)) }
        try await manager.createGroup(properties: GroupProperties(displayName: "wake"))
        let after = try await waiter.value
        #expect(after != before)
    }

    @Test func aWaitThatPolledWithoutAChangeStillWakesAtTheNextCommit() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let store = manager.core.store
        let before = try store.changeStamp()
        // Several poll intervals pass with nothing committed before the commit comes.
        let waiter = Task { try await store.waitForChange(since: before, pollInterval: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        try await manager.createGroup(properties: GroupProperties(displayName: "late"))
        let after = try await waiter.value
        #expect(after != before)
        #expect(after == (try store.changeStamp()))
    }

    @Test func anIdleChangeWaitWakesOncePerPollIntervalNotContinuously() async {
        let notifier = CommitNotifier()
        var wakeups = notifier.wakeups(every: .milliseconds(50)).makeAsyncIterator()
        let start = ContinuousClock.now
        var count = 0
        while ContinuousClock.now - start < .milliseconds(500), await wakeups.next() != nil { count += 1 }
        // At most one wake-up per 50 ms in 500 ms (a loaded machine only makes it fewer); a wait
        // whose commit stream had ended returned at once, thousands of times.
        #expect(count >= 1 && count <= 11, "\(count) wake-ups in 500 ms")
    }

    @Test func aChangeWaitEndsWithAnErrorWhenItsTaskIsCancelled() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let store = manager.core.store
        let before = try store.changeStamp()
        let waiter = Task { try await store.waitForChange(since: before, pollInterval: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: QueueError.self) { try await waiter.value }
    }
}

/// Another connection holding the write lock (`BEGIN IMMEDIATE` plus a write) until released,
/// as another process's long write transaction would.
final class RawLock: @unchecked Sendable {
    // `@unchecked Sendable`: the handle is used by the creating test only, then released once.
    private var db: OpaquePointer?

    init(_ path: String) throws {
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK,
            sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE groups SET modified_at = modified_at", nil, nil, nil) == SQLITE_OK
        else { throw QueueError(.storage, "could not take the write lock of \(path)") }
    }

    func release() {
        sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
        sqlite3_close_v2(db)
        db = nil
    }
}
