import Foundation
import BackgroundCopyTesting
import Synchronization
import Testing
import TestScheduling
@testable import BackgroundCopy

/// Records what the credential callback was asked and answers with one credential.
final class CredentialDesk: Sendable {
    let asked = Mutex<[CredentialRequest]>([])
    let answer: Credential?

    init(_ answer: Credential?) { self.answer = answer }

    var callback: @Sendable (CredentialRequest) async -> Credential? {
        { request in
            self.asked.withLock { $0.append(request) }
            return self.answer
        }
    }
}

@Suite("Secrets: credentials come from the host at transfer time and are kept nowhere", .alone)
struct CredentialTests {
    @Test func anAuthenticatedTransferLeavesThePasswordInNeitherTheDatabaseNorItsWALNorTheLog() async throws {
        let password = "pw-\(UUID().uuidString)"
        let authorization = Credential.basic(user: "alice", password: password).authorization
        let server = try await LoopbackServer.start()
        server.serve("/private.bin", size: 2_000_000, seed: 1)
        server.setFault("/private.bin", .requireAuthorization(authorization))
        server.serve("/flaky.bin", size: 500_000, seed: 2)
        server.setFault("/flaky.bin", .closeAfter(bytes: 100_000), times: 1)
        let desk = CredentialDesk(.basic(user: "alice", password: password))
        // One file at a time: private.bin is complete before flaky.bin's retry, so it is asked for once.
        let queue = try SecureQueue {
            $0.credentials = desk.callback
            $0.maxFilesPerGroup = 1
        }
        let group = try await queue.manager.createGroup(properties: quickRetries("private"))
        try await group.createJob().addFiles([
            FileSpec(remote: server.url("/private.bin?signature=QUERYSECRET"), local: queue.scratch.path("private.bin")),
            FileSpec(remote: server.url("/flaky.bin?signature=QUERYSECRET"), local: queue.scratch.path("flaky.bin")),
        ])
        try await group.resume()
        #expect(try await queue.finished(group) == .complete)
        await queue.engine.stop()
        try await server.shutdown()

        #expect(queue.scratch.contents("private.bin") == server.expected("/private.bin"))
        #expect(server.requests("/private.bin").map { $0.header("Authorization") } == [authorization])
        #expect(desk.asked.withLock { $0.count } >= 3, "asked once per request, the retry included")

        let secrets = [password, authorization, String(authorization.dropFirst("Basic ".count))].map { Array($0.utf8) }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            guard let bytes = FileManager.default.contents(atPath: queue.scratch.database + suffix).map(Array.init) else { continue }
            for secret in secrets {
                #expect(!contains(bytes, secret), "queue.sqlite\(suffix) holds a secret")
            }
        }
        let entries = queue.scratch.log.entries
        #expect(entries.contains { "\($0.message)" == "transient failure, will retry" }, "the scan covers a retry's log line")
        let log = Array(entries.map { "\($0.level) \($0.message) \($0.metadata)" }.joined(separator: "\n").utf8)
        for secret in secrets + [Array("QUERYSECRET".utf8)] {
            #expect(!contains(log, secret), "the log holds \(String(decoding: secret, as: UTF8.self))")
        }
    }

    @Test func aCrossOriginRedirectCarriesNoCredentialsAndTheOtherOriginIsNeverAskedFor() async throws {
        let home = try await LoopbackServer.start()
        let elsewhere = try await LoopbackServer.start()
        elsewhere.serve("/mirror.bin", size: 50_000, seed: 3)
        home.setFault("/start.bin", .redirect(to: elsewhere.url("/mirror.bin")))
        let desk = CredentialDesk(.bearer("token-\(UUID().uuidString)"))
        let queue = try SecureQueue { $0.credentials = desk.callback }
        var properties = quickRetries("redirected")
        properties.httpHeaders = [HTTPHeader(name: "X-Api-Key", value: "custom-auth")]
        let group = try queue.download(home.url("/start.bin"), to: "start.bin", properties: properties)
        #expect(try await queue.finished(group) == .complete)
        await queue.engine.stop()
        try await home.shutdown()
        try await elsewhere.shutdown()

        #expect(queue.scratch.contents("start.bin") == elsewhere.expected("/mirror.bin"))
        let first = try #require(home.requests("/start.bin").first)
        #expect(first.header("Authorization")?.hasPrefix("Bearer token-") == true)
        #expect(first.header("X-Api-Key") == "custom-auth")
        let redirected = try #require(elsewhere.requests("/mirror.bin").first)
        #expect(redirected.header("Authorization") == nil)
        #expect(redirected.header("X-Api-Key") == nil)
        let asked = desk.asked.withLock { $0 }
        #expect(asked.map(\.url) == [home.url("/start.bin")])
        #expect(asked.first?.groupID == group.id)
    }

    @Test func sameOriginRedirectsAskAgainForEachHop() async throws {
        let server = try await LoopbackServer.start()
        server.serve("/real.bin", size: 10_000, seed: 4)
        let authorization = Credential.bearer("hop-token").authorization
        server.setFault("/real.bin", .requireAuthorization(authorization))
        server.setFault("/alias.bin", .redirect(to: "/real.bin"))
        let desk = CredentialDesk(.bearer("hop-token"))
        let queue = try SecureQueue { $0.credentials = desk.callback }
        let group = try queue.download(server.url("/alias.bin"), to: "alias.bin")
        #expect(try await queue.finished(group) == .complete)
        await queue.engine.stop()
        try await server.shutdown()
        #expect(desk.asked.withLock { $0.map(\.url) } == [server.url("/alias.bin"), server.url("/real.bin")])
        #expect(server.requests("/real.bin").first?.header("Authorization") == authorization)
    }

    @Test func withoutACredentialAProtectedFileFailsWithHTTP401() async throws {
        let server = try await LoopbackServer.start()
        server.serve("/locked.bin", size: 1000, seed: 5)
        server.setFault("/locked.bin", .requireAuthorization("Bearer expected"))
        let desk = CredentialDesk(nil)
        let queue = try SecureQueue { $0.credentials = desk.callback }
        let group = try queue.download(server.url("/locked.bin"), to: "locked.bin")
        #expect(try await queue.finished(group) == .error)
        await queue.engine.stop()
        try await server.shutdown()
        await #expect(try group.status().lastError?.error.httpStatus == 401)
        #expect(server.requests("/locked.bin").first?.header("Authorization") == nil)
        #expect(desk.asked.withLock { $0.count } == 1)
    }

    @Test func aCredentialNeverShowsItsSecretWhenPrintedOrDumped() {
        let basic = Credential.basic(user: "alice", password: "hunter2")
        let bearer = Credential.bearer("tok3n")
        var dumped = ""
        dump([basic, bearer], to: &dumped)
        for text in ["\(basic)", "\(bearer)", String(reflecting: basic), String(reflecting: bearer), dumped, "\([basic, bearer])"] {
            #expect(!text.contains("hunter2") && !text.contains("tok3n"), "\(text)")
        }
        #expect("\(basic)".contains("alice"))
    }
}
