import Foundation
import Testing
@testable import BackgroundCopy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
import TestScheduling
#endif

/// A queue with one group and one empty job, in its own scratch directory.
private struct Fixture {
    let scratch: Scratch
    let manager: QueueManager
    let group: Group
    let job: Job

    init(_ configure: (inout QueueManager.Configuration, Scratch) -> Void = { _, _ in }) throws {
        scratch = Scratch()
        var configuration = QueueManager.Configuration()
        configure(&configuration, scratch)
        manager = try scratch.open(configuration)
        group = try manager.createGroup(properties: GroupProperties(displayName: "fixture"))
        job = try group.createJob()
    }

    /// A valid spec whose local path is `name` in the scratch directory.
    func spec(_ name: String = "a.bin", remote: String = "https://example.test/a.bin") -> FileSpec {
        FileSpec(remote: remote, local: scratch.path(name))
    }

    /// Runs `call`, which must throw `code` with `value` as the offending value, and must leave
    /// every row of every table as it was.
    @discardableResult
    func expectRefused(
        _ code: QueueError.Code, value: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ call: () throws -> Void
    ) throws -> QueueError? {
        try expectRefusal(scratch, code, value: value, sourceLocation: sourceLocation, call)
    }

    /// Adds `spec` as the only file of the job and expects it to be accepted and stored as given.
    func expectAccepted(_ spec: FileSpec, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try job.fileCount()
        try job.addFiles([spec])
        let stored = try job.file(at: before)
        #expect(stored.remote == spec.remote, sourceLocation: sourceLocation)
        #expect(stored.local == spec.local, sourceLocation: sourceLocation)
        #expect(stored.state == .queued, sourceLocation: sourceLocation)
    }
}

/// Runs `call`, expects it to throw a `QueueError` with `code` whose `value` equals `value`
/// (or contains it), and expects the database content unchanged.
@discardableResult
private func expectRefusal(
    _ scratch: Scratch, _ code: QueueError.Code, value: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ call: () throws -> Void
) throws -> QueueError? {
    let before = try tableDigest(scratch.database)
    var caught: QueueError?
    do {
        try call()
    } catch {
        caught = error as? QueueError
        #expect(caught != nil, "threw \(error), not a QueueError", sourceLocation: sourceLocation)
    }
    let after = try tableDigest(scratch.database)
    #expect(caught != nil, "the call was accepted; expected \(code)", sourceLocation: sourceLocation)
    #expect(caught?.code == code, "got \(caught.map(String.init(describing:)) ?? "no error")", sourceLocation: sourceLocation)
    let named = caught?.value.map { $0 == value || $0.contains(value) } ?? false
    #expect(
        named, "error value \(String(reflecting: caught?.value)) does not name \(String(reflecting: value))",
        sourceLocation: sourceLocation)
    #expect(before == after, "a refused call changed the database", sourceLocation: sourceLocation)
    return caught
}

/// Expects `properties` to be refused with `invalidArgument` naming `value`, both by `createGroup`
/// and by `setProperties` on an existing group, with nothing written either time.
private func expectPropertiesRefused(
    _ properties: GroupProperties, value: String,
    configure: (inout QueueManager.Configuration) -> Void = { _ in },
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let scratch = Scratch()
    var configuration = QueueManager.Configuration()
    configure(&configuration)
    let manager = try scratch.open(configuration)
    let group = try manager.createGroup(properties: GroupProperties(displayName: "existing"))
    let original = try group.properties()
    try expectRefusal(scratch, .invalidArgument, value: value, sourceLocation: sourceLocation) {
        try manager.createGroup(properties: properties)
    }
    try expectRefusal(scratch, .invalidArgument, value: value, sourceLocation: sourceLocation) {
        try group.setProperties(properties)
    }
    #expect(try manager.groups().count == 1, sourceLocation: sourceLocation)
    #expect(try group.properties() == original, sourceLocation: sourceLocation)
}

/// Expects `properties` to be accepted by `createGroup` and read back unchanged.
private func expectPropertiesAccepted(
    _ properties: GroupProperties,
    configure: (inout QueueManager.Configuration) -> Void = { _ in },
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let scratch = Scratch()
    var configuration = QueueManager.Configuration()
    configure(&configuration)
    let manager = try scratch.open(configuration)
    let group = try manager.createGroup(properties: properties)
    #expect(try group.properties() == properties, sourceLocation: sourceLocation)
}

private func properties(_ change: (inout GroupProperties) -> Void) -> GroupProperties {
    var properties = GroupProperties(displayName: "valid")
    change(&properties)
    return properties
}

private let validSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/// 64-character (or 64-byte) digests with one character that is not a hex digit.
private let nonHexSHA256: [String] = {
    let head63 = String(validSHA256.dropLast())
    let tail62 = String(validSHA256.dropFirst(2))
    let head62 = String(validSHA256.dropLast(2))
    return [head63 + "g", "zz" + tail62, head63 + " ", head62 + "é", "0x" + tail62]
}()

@Suite("Validation: group properties", .alongside)
struct GroupPropertyValidationTests {
    @Test func emptyDisplayNameIsRefused() throws {
        try expectPropertiesRefused(GroupProperties(displayName: ""), value: "")
    }

    @Test func displayNameOf257CharactersIsRefused() throws {
        let name = String(repeating: "n", count: 257)
        try expectPropertiesRefused(GroupProperties(displayName: name), value: name)
    }

    @Test(arguments: [String(repeating: "n", count: 256), String(repeating: "é", count: 256), "x"])
    func displayNameOf1To256CharactersIsAccepted(name: String) throws {
        try expectPropertiesAccepted(GroupProperties(displayName: name))
    }

    @Test(arguments: ["tab\there", "line\nbreak", "nul\u{0}", "bell\u{7}", "del\u{7F}", "c1\u{85}", "cr\r"])
    func controlCharacterInDisplayNameIsRefused(name: String) throws {
        try expectPropertiesRefused(GroupProperties(displayName: name), value: name)
    }

    @Test func descriptionOf1025CharactersIsRefused() throws {
        let description = String(repeating: "d", count: 1025)
        try expectPropertiesRefused(properties { $0.description = description }, value: description)
    }

    @Test func descriptionOf1024CharactersIsAccepted() throws {
        try expectPropertiesAccepted(properties { $0.description = String(repeating: "d", count: 1024) })
    }

    @Test(arguments: ["carriage\rreturn", "nul\u{0}", "escape\u{1B}[31m", "del\u{7F}", "crlf\r\n"])
    func controlCharacterInDescriptionIsRefused(description: String) throws {
        try expectPropertiesRefused(properties { $0.description = description }, value: description)
    }

    @Test func tabAndNewlineInDescriptionAreAccepted() throws {
        try expectPropertiesAccepted(properties { $0.description = "first line\n\tindented second line\n" })
    }

    @Test(arguments: [UInt32(0x80), 0x100, 0x8000_0000, 0x84, 0xFFFF_FFFF])
    func unknownNotifyFlagBitsAreRefused(rawValue: UInt32) throws {
        try expectPropertiesRefused(
            properties { $0.notifyFlags = NotifyFlags(rawValue: rawValue) },
            value: "0x" + String(rawValue, radix: 16))
    }

    @Test func everyDefinedNotifyFlagIsAccepted() throws {
        try expectPropertiesAccepted(properties { $0.notifyFlags = .all })
    }

    @Test(arguments: [Duration.zero, .milliseconds(4999), .seconds(-1)])
    func retryDelayBelowTheDefaultMinimumIsRefused(delay: Duration) throws {
        try expectPropertiesRefused(properties { $0.retryDelay = delay }, value: "\(delay)")
    }

    @Test func retryDelayBelowAConfiguredMinimumIsRefusedAndTheMinimumAccepted() throws {
        let configure: (inout QueueManager.Configuration) -> Void = { $0.minimumRetryDelay = .seconds(60) }
        try expectPropertiesRefused(properties { $0.retryDelay = .seconds(59) }, value: "\(Duration.seconds(59))", configure: configure)
        try expectPropertiesAccepted(properties { $0.retryDelay = .seconds(60) }, configure: configure)
    }

    @Test func retryDelayAboveSevenDaysIsRefused() throws {
        let delay = Duration.seconds(7 * 24 * 3600) + .milliseconds(1)
        try expectPropertiesRefused(properties { $0.retryDelay = delay }, value: "\(delay)")
    }

    @Test(arguments: [Duration.seconds(5), .seconds(7 * 24 * 3600)])
    func retryDelayAtEitherBoundIsAccepted(delay: Duration) throws {
        try expectPropertiesAccepted(properties { $0.retryDelay = delay })
    }

    @Test(arguments: [Duration.milliseconds(-1), .seconds(-3600)])
    func negativeNoProgressTimeoutIsRefused(timeout: Duration) throws {
        try expectPropertiesRefused(properties { $0.noProgressTimeout = timeout }, value: "\(timeout)")
    }

    @Test func noProgressTimeoutOver365DaysIsRefused() throws {
        let timeout = Duration.seconds(365 * 24 * 3600 + 1)
        try expectPropertiesRefused(properties { $0.noProgressTimeout = timeout }, value: "\(timeout)")
    }

    @Test(arguments: [Duration.zero, .seconds(365 * 24 * 3600)])
    func noProgressTimeoutAtEitherBoundIsAccepted(timeout: Duration) throws {
        try expectPropertiesAccepted(properties { $0.noProgressTimeout = timeout })
    }

    @Test(arguments: ["", "X Bad", "X:Bad", "X-Ünicode", "X\tTab", "(comment)", "a/b", "a\r\nb", String(repeating: "h", count: 257)])
    func headerNameThatIsNotATokenIsRefused(name: String) throws {
        try expectPropertiesRefused(properties { $0.httpHeaders = [HTTPHeader(name: name, value: "v")] }, value: name)
    }

    @Test(arguments: [
        "Authorization", "authorization", "PROXY-AUTHORIZATION", "Cookie", "Range", "If-Range",
        "Host", "Content-Length", "Transfer-Encoding", "Connection",
    ])
    func reservedHeaderIsRefused(name: String) throws {
        let headers = [HTTPHeader(name: "X-Fine", value: "1"), HTTPHeader(name: name, value: "secret")]
        try expectPropertiesRefused(properties { $0.httpHeaders = headers }, value: name)
    }

    @Test(arguments: ["a\rb", "a\nb", "ok\r\nX-Injected: 1", "nul\u{0}", "del\u{7F}"])
    func headerValueWithCRLFOrControlCharacterIsRefused(value: String) throws {
        try expectPropertiesRefused(properties { $0.httpHeaders = [HTTPHeader(name: "X-Custom", value: value)] }, value: value)
    }

    @Test func headerValueOver8192BytesIsRefused() throws {
        let value = String(repeating: "v", count: 8193)
        try expectPropertiesRefused(properties { $0.httpHeaders = [HTTPHeader(name: "X-Big", value: value)] }, value: value)
    }

    @Test func tokenHeaderWithTabInItsValueIsAcceptedAndReadBack() throws {
        try expectPropertiesAccepted(
            properties {
                $0.httpHeaders = [HTTPHeader(name: "X-Token_!#$%&'*+-.^`|~9", value: "a\tb: c"), HTTPHeader(name: "Accept", value: "*/*")]
            })
    }

    @Test func moreThan64HeadersAreRefusedAnd64Accepted() throws {
        let headers = (0..<65).map { HTTPHeader(name: "X-H\($0)", value: "\($0)") }
        try expectPropertiesRefused(properties { $0.httpHeaders = headers }, value: "65")
        try expectPropertiesAccepted(properties { $0.httpHeaders = Array(headers.prefix(64)) })
    }
}

@Suite("Validation: remote names", .alongside)
struct RemoteValidationTests {
    @Test func emptyRemoteIsRefused() throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: "") { try fixture.job.addFiles([fixture.spec(remote: "")]) }
    }

    @Test func remoteOver2200CharactersIsRefusedAnd2200Accepted() throws {
        let fixture = try Fixture()
        let prefix = "https://example.test/"
        let long = prefix + String(repeating: "r", count: 2201 - prefix.count)
        #expect(long.count == 2201)
        try fixture.expectRefused(.invalidArgument, value: long) { try fixture.job.addFiles([fixture.spec(remote: long)]) }
        try fixture.expectAccepted(fixture.spec(remote: String(long.dropLast())))
    }

    @Test(arguments: [
        "https://example.test/a b", "https://example.test/a\tb", "https://example.test/a\nb",
        "https://example.test/a\u{0}", "https://example.test/a\u{7F}", " https://example.test/a",
    ])
    func controlCharacterOrSpaceInRemoteIsRefused(remote: String) throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: remote) { try fixture.job.addFiles([fixture.spec(remote: remote)]) }
    }

    @Test(arguments: ["example.test/a.bin", "a.bin", "./a.bin", "../a.bin", "1http://example.test/a", "~/a.bin"])
    func relativeRemoteIsRefused(remote: String) throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: remote) { try fixture.job.addFiles([fixture.spec(remote: remote)]) }
    }

    @Test(arguments: ["ftp://example.test/a.bin", "FTP://example.test/a.bin", "gopher://example.test/a", "javascript:alert(1)", "data:,hello"])
    func schemeOutsideTheDefaultSetIsRefused(remote: String) throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: remote) { try fixture.job.addFiles([fixture.spec(remote: remote)]) }
    }

    @Test func onlyConfiguredSchemesAreAllowed() throws {
        let fixture = try Fixture { configuration, _ in configuration.allowedSchemes = ["https", "s3"] }
        for remote in ["http://example.test/a.bin", "file:///srv/a.bin", "/srv/a.bin"] {
            try fixture.expectRefused(.invalidArgument, value: remote) { try fixture.job.addFiles([fixture.spec(remote: remote)]) }
        }
        try fixture.expectAccepted(fixture.spec("s3.bin", remote: "s3://bucket/key.bin"))
        try fixture.expectAccepted(fixture.spec("https.bin", remote: "https://example.test/a.bin"))
    }

    @Test(arguments: ["https://user:secret@example.test/a.bin", "http://user@example.test/a.bin", "https://:secret@example.test/a.bin"])
    func remoteWithCredentialsIsRefused(remote: String) throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: remote) { try fixture.job.addFiles([fixture.spec(remote: remote)]) }
    }

    @Test(arguments: ["http:///a.bin", "https:/a.bin", "http:a.bin", "https://"])
    func httpRemoteWithoutHostIsRefused(remote: String) throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: remote) { try fixture.job.addFiles([fixture.spec(remote: remote)]) }
    }

    @Test(arguments: ["file://server/share/a.bin", "file://example.test/srv/a.bin", "file:relative/a.bin"])
    func fileURLNamingARemoteHostOrARelativePathIsRefused(remote: String) throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: remote) { try fixture.job.addFiles([fixture.spec(remote: remote)]) }
    }

    @Test func localFileURLsAndAbsolutePathRemotesAreAccepted() throws {
        let fixture = try Fixture()
        try fixture.expectAccepted(fixture.spec("one", remote: "file:///srv/data/a.bin"))
        try fixture.expectAccepted(fixture.spec("two", remote: "file://localhost/srv/data/a.bin"))
        try fixture.expectAccepted(fixture.spec("three", remote: "/srv/data/a.bin"))
        try fixture.expectAccepted(fixture.spec("four", remote: "HTTPS://example.test/a.bin"))
    }

    @Test(arguments: ["/srv/../etc/passwd", "/srv/./a.bin", "/srv//a.bin", "/srv/data/"])
    func absolutePathRemoteThatIsNotNormalisedIsRefused(remote: String) throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: remote) { try fixture.job.addFiles([fixture.spec(remote: remote)]) }
    }
}

@Suite("Validation: local paths", .alongside)
struct LocalPathValidationTests {
    @Test(arguments: ["a.bin", "tmp/a.bin", "./a.bin", "~/a.bin", ""])
    func relativeLocalPathIsRefused(local: String) throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test(arguments: ["/sub/../a.bin", "/./a.bin", "//a.bin", "/sub/.", "/sub/.."])
    func localPathWithDotDotDotOrDoubleSlashIsRefused(suffix: String) throws {
        let fixture = try Fixture()
        try FileManager.default.createDirectory(atPath: fixture.scratch.path("sub"), withIntermediateDirectories: true)
        let local = fixture.scratch.directory + suffix
        try fixture.expectRefused(.invalidArgument, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test(arguments: ["/sub/", "/"])
    func localPathWithTrailingSlashIsRefused(suffix: String) throws {
        let fixture = try Fixture()
        try FileManager.default.createDirectory(atPath: fixture.scratch.path("sub"), withIntermediateDirectories: true)
        let local = suffix == "/" ? "/" : fixture.scratch.directory + suffix
        try fixture.expectRefused(.invalidArgument, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test func localPathControlCharacterIsRefused() throws {
        let fixture = try Fixture()
        let local = fixture.scratch.path("a\nb.bin")
        try fixture.expectRefused(.invalidArgument, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test func localPathOverPathMaxIsRefused() throws {
        let fixture = try Fixture()
        var local = fixture.scratch.directory
        while local.utf8.count < 4096 { local += "/" + String(repeating: "p", count: 200) }
        local = String(local.prefix(4096))
        #expect(local.utf8.count == 4096)
        try fixture.expectRefused(.invalidArgument, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test func pathComponentOver255BytesIsRefused() throws {
        let fixture = try Fixture()
        let local = fixture.scratch.path(String(repeating: "c", count: 256) + "/a.bin")
        try fixture.expectRefused(.invalidArgument, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test(arguments: [String(repeating: "f", count: 221), String(repeating: "é", count: 111), String(repeating: "f", count: 255)])
    func finalNameOver220BytesIsRefused(name: String) throws {
        let fixture = try Fixture()
        let local = fixture.scratch.path(name)
        try fixture.expectRefused(.invalidArgument, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test func finalNameOf220BytesIsAccepted() throws {
        let fixture = try Fixture()
        try fixture.expectAccepted(fixture.spec(String(repeating: "f", count: 220)))
    }

    @Test func localPathThatIsASymlinkIsRefused() throws {
        let fixture = try Fixture()
        fixture.scratch.write("target.bin", [1, 2, 3])
        let link = fixture.scratch.path("link.bin")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fixture.scratch.path("target.bin"))
        try fixture.expectRefused(.invalidArgument, value: link) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: link)])
        }
        let dangling = fixture.scratch.path("dangling.bin")
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: fixture.scratch.path("nowhere"))
        try fixture.expectRefused(.invalidArgument, value: dangling) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: dangling)])
        }
    }

    @Test func localPathThatIsADirectoryIsRefused() throws {
        let fixture = try Fixture()
        let directory = fixture.scratch.path("dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try fixture.expectRefused(.invalidArgument, value: directory) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: directory)])
        }
    }

    @Test func localPathThatIsADeviceIsRefused() throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: "/dev/null") {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: "/dev/null")])
        }
    }

    @Test func existingRegularFileAtTheLocalPathIsAccepted() throws {
        let fixture = try Fixture()
        fixture.scratch.write("old.bin", [9, 9])
        try fixture.expectAccepted(fixture.spec("old.bin"))
    }

    @Test func localPathInAMissingDirectoryIsAccessDenied() throws {
        let fixture = try Fixture()
        let local = fixture.scratch.path("missing/a.bin")
        try fixture.expectRefused(.accessDenied, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test func localPathUnderARegularFileIsAccessDenied() throws {
        let fixture = try Fixture()
        fixture.scratch.write("plain", [1])
        let local = fixture.scratch.path("plain/a.bin")
        try fixture.expectRefused(.accessDenied, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }

    @Test func localPathInANotWritableDirectoryIsAccessDenied() throws {
        let fixture = try Fixture()
        let readOnlyFileSystem = ["/proc/sys", "/sys", "/proc/sys/kernel"].first { candidate in
            var info = stat()
            return lstat(candidate, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && access(candidate, W_OK | X_OK) != 0
        }
        if getuid() == 0, let directory = readOnlyFileSystem {
            // Root may write into any directory whatever its mode; a read-only file system it may not.
            let local = "\(directory)/bgcopy-validation-\(UUID().uuidString).bin"
            try fixture.expectRefused(.accessDenied, value: local) {
                try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
            }
            return
        }
        let directory = fixture.scratch.path("locked")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(chmod(directory, 0o555) == 0)
        defer { _ = chmod(directory, 0o755) }
        let local = "\(directory)/a.bin"
        if access(directory, W_OK | X_OK) != 0 {
            try fixture.expectRefused(.accessDenied, value: local) {
                try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
            }
        } else {
            // Root without a read-only file system: the kernel lets it write there, and so must the queue.
            try fixture.expectAccepted(FileSpec(remote: "https://example.test/a", local: local))
        }
    }

    @Test func localPathOutsideTheAllowedRootsIsAccessDenied() throws {
        let fixture = try Fixture { configuration, scratch in configuration.allowedRoots = [scratch.path("root")] }
        for name in ["root", "outside"] {
            try FileManager.default.createDirectory(atPath: fixture.scratch.path(name), withIntermediateDirectories: true)
        }
        try FileManager.default.createDirectory(atPath: fixture.scratch.path("rootevil"), withIntermediateDirectories: true)
        for local in [fixture.scratch.path("outside/a.bin"), fixture.scratch.path("a.bin"), fixture.scratch.path("rootevil/a.bin")] {
            try fixture.expectRefused(.accessDenied, value: local) {
                try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
            }
        }
    }

    @Test func localPathInsideAnAllowedRootIsAccepted() throws {
        let fixture = try Fixture { configuration, scratch in
            configuration.allowedRoots = ["/nonexistent-root", scratch.path("root") + "/"]
        }
        try FileManager.default.createDirectory(atPath: fixture.scratch.path("root/deep"), withIntermediateDirectories: true)
        try fixture.expectAccepted(fixture.spec("root/a.bin"))
        try fixture.expectAccepted(fixture.spec("root/deep/b.bin"))
    }

    /// DESIGN.md, Security: a local path outside the allowed roots is refused. A path that only
    /// lexically lies under a root but reaches outside it through a symlinked directory is outside.
    @Test func localPathEscapingTheAllowedRootsThroughASymlinkedDirectoryIsAccessDenied() throws {
        let fixture = try Fixture { configuration, scratch in configuration.allowedRoots = [scratch.path("root")] }
        for name in ["root", "outside"] {
            try FileManager.default.createDirectory(atPath: fixture.scratch.path(name), withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: fixture.scratch.path("root/escape"), withDestinationPath: fixture.scratch.path("outside"))
        let local = fixture.scratch.path("root/escape/a.bin")
        try fixture.expectRefused(.accessDenied, value: local) {
            try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: local)])
        }
    }
}

@Suite("Validation: SHA-256, size hint, batches and duplicates", .alongside)
struct FileSpecValidationTests {
    @Test(arguments: ["", "abc", String(validSHA256.dropLast()), validSHA256 + "0", validSHA256 + validSHA256])
    func sha256OfTheWrongLengthIsRefused(sha256: String) throws {
        let fixture = try Fixture()
        var spec = fixture.spec()
        spec.sha256 = sha256
        try fixture.expectRefused(.invalidArgument, value: sha256) { try fixture.job.addFiles([spec]) }
    }

    @Test(arguments: nonHexSHA256)
    func sha256WithANonHexCharacterIsRefused(sha256: String) throws {
        let fixture = try Fixture()
        var spec = fixture.spec()
        spec.sha256 = sha256
        try fixture.expectRefused(.invalidArgument, value: sha256) { try fixture.job.addFiles([spec]) }
    }

    @Test func uppercaseSHA256IsAcceptedAndReadBackLowercase() throws {
        let fixture = try Fixture()
        try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: fixture.scratch.path("a.bin"), sha256: validSHA256.uppercased())])
        #expect(try fixture.job.file(at: 0).sha256 == validSHA256)
    }

    @Test(arguments: [UInt64(Int64.max) + 1, UInt64.max])
    func sizeHintAboveInt64MaxIsRefused(hint: UInt64) throws {
        let fixture = try Fixture()
        var spec = fixture.spec()
        spec.sizeHint = hint
        try fixture.expectRefused(.invalidArgument, value: "\(hint)") { try fixture.job.addFiles([spec]) }
    }

    @Test func sizeHintOfInt64MaxIsAcceptedAndReadBack() throws {
        let fixture = try Fixture()
        try fixture.job.addFiles([FileSpec(remote: "https://example.test/a", local: fixture.scratch.path("a.bin"), sizeHint: UInt64(Int64.max))])
        #expect(try fixture.job.file(at: 0).sizeHint == UInt64(Int64.max))
    }

    @Test func emptyBatchIsRefused() throws {
        let fixture = try Fixture()
        try fixture.expectRefused(.invalidArgument, value: "[]") { try fixture.job.addFiles([]) }
    }

    @Test func duplicateLocalPathWithinOneBatchIsRefused() throws {
        let fixture = try Fixture()
        let local = fixture.scratch.path("same.bin")
        let batch = [
            FileSpec(remote: "https://example.test/1", local: local),
            FileSpec(remote: "https://example.test/2", local: fixture.scratch.path("other.bin")),
            FileSpec(remote: "https://example.test/3", local: local),
        ]
        let error = try fixture.expectRefused(.invalidArgument, value: local) { try fixture.job.addFiles(batch) }
        #expect(error?.message.contains("2") == true)
        #expect(try fixture.job.fileCount() == 0)
    }

    @Test func localPathOfALiveFileInAnotherGroupIsRefused() throws {
        let fixture = try Fixture()
        try fixture.job.addFiles([fixture.spec("taken.bin")])
        let other = try fixture.manager.createGroup(properties: GroupProperties(displayName: "other")).createJob()
        let local = fixture.scratch.path("taken.bin")
        let error = try fixture.expectRefused(.invalidArgument, value: local) {
            try other.addFiles([fixture.spec("free.bin"), FileSpec(remote: "https://example.test/other", local: local)])
        }
        #expect(error?.message.contains("file 1") == true)
        #expect(try other.fileCount() == 0)
    }

    @Test func localPathOfALiveFileInTheSameJobIsRefused() throws {
        let fixture = try Fixture()
        try fixture.job.addFiles([fixture.spec("taken.bin")])
        let local = fixture.scratch.path("taken.bin")
        try fixture.expectRefused(.invalidArgument, value: local) { try fixture.job.addFiles([fixture.spec("taken.bin")]) }
        #expect(try fixture.job.fileCount() == 1)
    }

    @Test func completeFileOfALiveGroupStillHoldsItsLocalPath() throws {
        let fixture = try Fixture()
        try fixture.job.addFiles([fixture.spec("done.bin")])
        try fixture.group.resume()
        try transferNextFile(fixture.manager, content: [1, 2, 3])
        #expect(try fixture.job.file(at: 0).state == .complete)
        let other = try fixture.manager.createGroup(properties: GroupProperties(displayName: "other")).createJob()
        try fixture.expectRefused(.invalidArgument, value: fixture.scratch.path("done.bin")) {
            try other.addFiles([fixture.spec("done.bin")])
        }
    }

    @Test func localPathOfADiscardedFileOfACancelledGroupCanBeReused() throws {
        let fixture = try Fixture()
        try fixture.job.addFiles([fixture.spec("reuse.bin")])
        try fixture.group.cancel()
        let local = fixture.scratch.path("reuse.bin")
        #expect(try query(fixture.scratch.database, "SELECT state FROM files WHERE local_path = '\(local)'") == [["discarded"]])
        let job = try fixture.manager.createGroup(properties: GroupProperties(displayName: "again")).createJob()
        try job.addFiles([fixture.spec("reuse.bin")])
        #expect(try job.file(at: 0).local == local)
        #expect(
            try query(fixture.scratch.database, "SELECT state FROM files WHERE local_path = '\(local)' ORDER BY id")
                == [["discarded"], ["queued"]])
    }

    @Test func localPathOfARetainedFileOfACancelledGroupCanBeReused() throws {
        let fixture = try Fixture()
        try fixture.job.addFiles([fixture.spec("kept.bin")])
        try fixture.group.resume()
        try transferNextFile(fixture.manager, content: [4, 5, 6])
        try fixture.group.cancel()
        let local = fixture.scratch.path("kept.bin")
        #expect(try query(fixture.scratch.database, "SELECT state FROM files WHERE local_path = '\(local)'") == [["retained"]])
        #expect(FileManager.default.fileExists(atPath: local))
        let job = try fixture.manager.createGroup(properties: GroupProperties(displayName: "again")).createJob()
        try job.addFiles([fixture.spec("kept.bin")])
        #expect(
            try query(fixture.scratch.database, "SELECT state FROM files WHERE local_path = '\(local)' ORDER BY id")
                == [["retained"], ["queued"]])
    }

    @Test func localPathOfAFileOfACancelledJobCanBeReused() throws {
        let fixture = try Fixture()
        try fixture.job.addFiles([fixture.spec("job.bin")])
        try fixture.job.cancel()
        let job = try fixture.group.createJob()
        try job.addFiles([fixture.spec("job.bin")])
        #expect(try job.fileCount() == 1)
    }

    @Test func errorOfABadFileNamesItsIndexInTheBatch() throws {
        let fixture = try Fixture()
        let batch = fixture.scratch.specs(3) + [FileSpec(remote: "ftp://example.test/x", local: fixture.scratch.path("x"))]
        let error = try fixture.expectRefused(.invalidArgument, value: "ftp://example.test/x") { try fixture.job.addFiles(batch) }
        #expect(error?.message.hasPrefix("file 3") == true)
    }
}
