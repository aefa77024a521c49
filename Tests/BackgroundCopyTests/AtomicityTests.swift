import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

// Every test runs against both backends (`Backend`): a call that fails, or has nothing to do,
// leaves every table byte for byte as it was. The PostgreSQL cases start the process's throwaway
// cluster, hence `.alone`.

/// A queue of one backend with one group holding one job.
struct AtomicityFixture: Sendable {
    let manager: any QueueUnderTest
    let group: any GroupUnderTest
    let job: any JobUnderTest

    var scratch: Scratch { manager.scratch }
    var ledger: any EngineLedger { manager.ledger }

    static func with(_ backend: Backend, _ body: @Sendable (AtomicityFixture) async throws -> Void) async throws {
        try await backend.withQueue { queue in
            let (group, job) = try await queue.groupWithJob("atomicity")
            try await body(AtomicityFixture(manager: queue, group: group, job: job))
        }
    }

    /// Takes the table digest, runs `call`, which must throw `code`, and expects the digest unchanged
    /// byte for byte.
    @discardableResult
    func expectNothingChanged(
        throwing code: QueueError.Code,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ call: () async throws -> Void
    ) async throws -> QueueError? {
        let before = try await manager.digest()
        var caught: QueueError?
        do {
            try await call()
        } catch {
            caught = error as? QueueError
            #expect(caught != nil, "threw \(error), not a QueueError", sourceLocation: sourceLocation)
        }
        let after = try await manager.digest()
        #expect(
            caught?.code == code, "expected \(code), got \(caught.map(String.init(describing:)) ?? "no error")",
            sourceLocation: sourceLocation)
        #expect(before == after, "the failed call changed the database", sourceLocation: sourceLocation)
        return caught
    }

    /// Takes the table digest, runs `call` (which must not throw) and expects the digest unchanged.
    @discardableResult
    func expectNothingChanged<T>(
        sourceLocation: SourceLocation = #_sourceLocation,
        returning call: () async throws -> T
    ) async throws -> T {
        let before = try await manager.digest()
        let result = try await call()
        let after = try await manager.digest()
        #expect(before == after, "the call changed the database", sourceLocation: sourceLocation)
        return result
    }

    /// Claims the job's only file for transfer: the group resumed, the file `transferring`.
    func claimedFile(sourceLocation: SourceLocation = #_sourceLocation) async throws -> Claim {
        try await job.addFiles([FileSpec(remote: "https://example.test/a", local: scratch.path("a.bin"))])
        try await group.resume()
        let claim = try #require(try await ledger.claimNextFile(), sourceLocation: sourceLocation)
        #expect(
            try await ledger.checkpoint(claim.fileRowID, bytesDone: 1, bytesTotal: 4, validator: nil, progressAbove: 0),
            sourceLocation: sourceLocation)
        return claim
    }
}

@Suite("Atomicity: groups and properties", .alone)
struct GroupAtomicityTests {
    @Test(
        arguments: Backend.allCases,
        [
            GroupProperties(displayName: ""),
            GroupProperties(displayName: "ok", description: "bad\u{0}"),
            GroupProperties(displayName: "ok", retryDelay: .seconds(1)),
            GroupProperties(displayName: "ok", httpHeaders: [HTTPHeader(name: "X-Ok", value: "1"), HTTPHeader(name: "Cookie", value: "s")]),
        ])
    func createGroupWithAnInvalidPropertyChangesNothing(backend: Backend, properties: GroupProperties) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.expectNothingChanged(throwing: .invalidArgument) { try await queue.manager.createGroup(properties: properties) }
            #expect(try await queue.manager.groups() == [queue.group.id])
        }
    }

    @Test(arguments: Backend.allCases)
    func createGroupWithTheIDOfALiveGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let error = try await queue.expectNothingChanged(throwing: .alreadyExists) {
                try await queue.manager.createGroup(id: queue.group.id, properties: GroupProperties(displayName: "again"))
            }
            #expect(error?.value == queue.group.id.description)
            #expect(try await queue.group.properties().displayName == "atomicity")
        }
    }

    @Test(arguments: Backend.allCases)
    func createGroupWithTheIDOfACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .alreadyExists) {
                try await queue.manager.createGroup(id: queue.group.id, properties: GroupProperties(displayName: "again"))
            }
            #expect(try await queue.manager.groups().isEmpty)
        }
    }

    @Test(
        arguments: Backend.allCases,
        [
            GroupProperties(displayName: String(repeating: "x", count: 257)),
            GroupProperties(displayName: "ok", notifyFlags: NotifyFlags(rawValue: 0x200)),
            GroupProperties(displayName: "ok", noProgressTimeout: .seconds(-1)),
            GroupProperties(displayName: "ok", priority: .foreground, httpHeaders: [HTTPHeader(name: "X-Bad", value: "a\r\nb")]),
        ])
    func setPropertiesWithAnInvalidPropertyChangesNothing(backend: Backend, properties: GroupProperties) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let before = try await queue.group.properties()
            try await queue.expectNothingChanged(throwing: .invalidArgument) { try await queue.group.setProperties(properties) }
            #expect(try await queue.group.properties() == before)
        }
    }

    @Test(arguments: Backend.allCases)
    func setPropertiesOnACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) {
                try await queue.group.setProperties(GroupProperties(displayName: "renamed"))
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func lookingUpAnUnknownGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let unknown = GroupID()
            let error = try await queue.expectNothingChanged(throwing: .notFound) { _ = try await queue.manager.group(unknown) }
            #expect(error?.value == unknown.description)
        }
    }

    @Test(arguments: Backend.allCases)
    func lookingUpACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { _ = try await queue.manager.group(queue.group.id) }
            try await queue.expectNothingChanged(throwing: .notFound) { _ = try await queue.group.properties() }
        }
    }

    @Test(arguments: Backend.allCases)
    func cancellingACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(2))
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.group.cancel() }
        }
    }

    @Test(arguments: Backend.allCases)
    func suspendingACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(1))
            try await queue.group.resume()
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.group.suspend() }
        }
    }

    @Test(arguments: Backend.allCases)
    func switchingACancelledGroupToForegroundChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.group.switchToForeground() }
            #expect(try await queue.manager.rows("SELECT priority FROM groups") == [["2"]])
        }
    }

    @Test(arguments: Backend.allCases)
    func resumingACancelledGroupChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(1))
            try await queue.group.cancel()
            try await queue.expectNothingChanged(throwing: .notFound) { try await queue.group.resume() }
        }
    }
}

@Suite("Atomicity: calls that are no-ops write nothing", .alone)
struct NoOpAtomicityTests {
    @Test(arguments: Backend.allCases)
    func suspendingASuspendedGroupWritesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(1))
            try await queue.expectNothingChanged { try await queue.group.suspend() }
        }
    }

    @Test(arguments: Backend.allCases)
    func resumingAQueuedGroupWritesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(1))
            try await queue.group.resume()
            try await queue.expectNothingChanged { try await queue.group.resume() }
            #expect(try await queue.group.status().state == .queued)
        }
    }

    @Test(arguments: Backend.allCases)
    func switchingAForegroundGroupToForegroundWritesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.group.switchToForeground()
            try await queue.expectNothingChanged { try await queue.group.switchToForeground() }
        }
    }
}

@Suite("Atomicity: resume with nothing to transfer", .alone)
struct ResumeAtomicityTests {
    @Test(arguments: Backend.allCases)
    func resumingAGroupWithoutFilesIsEmptyAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let error = try await queue.expectNothingChanged(throwing: .empty) { try await queue.group.resume() }
            #expect(error?.value == queue.group.id.description)
            #expect(try await queue.group.status().state == .suspended)
        }
    }

    @Test(arguments: Backend.allCases)
    func resumingAGroupWithoutJobsIsEmptyAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            let bare = try await queue.manager.createGroup(properties: GroupProperties(displayName: "bare"))
            try await queue.expectNothingChanged(throwing: .empty) { try await bare.resume() }
        }
    }

    @Test(arguments: Backend.allCases)
    func resumingACompleteGroupIsEmptyAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles([FileSpec(remote: "https://example.test/a", local: queue.scratch.path("a.bin"))])
            try await queue.group.resume()
            try await queue.manager.transferNextFile(content: [1, 2, 3])
            #expect(try await queue.group.status().state == .complete)
            try await queue.expectNothingChanged(throwing: .empty) { try await queue.group.resume() }
            #expect(try await queue.group.status().state == .complete)
        }
    }

    @Test(arguments: Backend.allCases)
    func resumingAGroupWhoseOnlyJobWasCancelledIsEmptyAndChangesNothing(backend: Backend) async throws {
        try await AtomicityFixture.with(backend) { queue in
            try await queue.job.addFiles(queue.scratch.specs(3))
            try await queue.job.cancel()
            try await queue.expectNothingChanged(throwing: .empty) { try await queue.group.resume() }
        }
    }
}
