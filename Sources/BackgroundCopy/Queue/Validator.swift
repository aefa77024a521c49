import Foundation

/// Checks every input before a transaction starts. A rejected input throws `invalidArgument`
/// (or `accessDenied` for paths the process may not write) naming the value; nothing is written.
struct Validator: Sendable {
    let configuration: QueueManager.Configuration
    let fileSystem: any FileSystem

    static let maxDisplayName = 256
    static let maxDescription = 1024
    static let maxRemoteLength = 2200
    static let maxPathBytes = 4095
    static let maxNameBytes = 255
    /// Room left in a name for the temp file's `.` prefix and `.<file id>.bgcopy-part` suffix.
    static let maxFinalNameBytes = 220
    static let maxHeaders = 64
    static let maxHeaderValue = 8192
    /// The suffix of temp files (`.<name>.<file id>.bgcopy-part`); no local path may end in it.
    static let tempSuffix = ".bgcopy-part"
    static let maxRetryDelay = Duration.seconds(7 * 24 * 3600)
    static let maxNoProgressTimeout = Duration.seconds(365 * 24 * 3600)
    /// Request headers the library sets itself, or that would put credentials in the database.
    static let reservedHeaders: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "host", "range", "if-range",
        "content-length", "transfer-encoding", "connection",
    ]

    // MARK: Group properties

    func validate(_ properties: GroupProperties) throws(QueueError) {
        let name = properties.displayName
        guard !name.isEmpty else { throw .invalidArgument("display name is empty", value: name) }
        guard name.unicodeScalars.count <= Self.maxDisplayName else {
            throw .invalidArgument("display name is \(name.unicodeScalars.count) characters; at most \(Self.maxDisplayName) allowed", value: name)
        }
        if let scalar = Self.firstControl(in: name, allowing: []) {
            throw .invalidArgument("display name contains control character \(Self.hex(scalar))", value: name)
        }
        let description = properties.description
        guard description.unicodeScalars.count <= Self.maxDescription else {
            throw .invalidArgument("description is \(description.unicodeScalars.count) characters; at most \(Self.maxDescription) allowed", value: description)
        }
        if let scalar = Self.firstControl(in: description, allowing: ["\t", "\n"]) {
            throw .invalidArgument("description contains control character \(Self.hex(scalar))", value: description)
        }
        let unknown = properties.notifyFlags.rawValue & ~NotifyFlags.all.rawValue
        guard unknown == 0 else {
            throw .invalidArgument("notify flags contain unknown bits 0x\(String(unknown, radix: 16))", value: "0x\(String(properties.notifyFlags.rawValue, radix: 16))")
        }
        let retry = properties.retryDelay
        guard retry >= configuration.minimumRetryDelay, retry <= Self.maxRetryDelay else {
            throw .invalidArgument("retry delay \(retry) is outside \(configuration.minimumRetryDelay)…\(Self.maxRetryDelay)", value: "\(retry)")
        }
        let timeout = properties.noProgressTimeout
        guard timeout >= .zero, timeout <= Self.maxNoProgressTimeout else {
            throw .invalidArgument("no-progress timeout \(timeout) is outside 0…\(Self.maxNoProgressTimeout)", value: "\(timeout)")
        }
        try validate(properties.httpHeaders)
    }

    private func validate(_ headers: [HTTPHeader]) throws(QueueError) {
        guard headers.count <= Self.maxHeaders else {
            throw .invalidArgument("\(headers.count) custom headers; at most \(Self.maxHeaders) allowed", value: "\(headers.count)")
        }
        for header in headers {
            let name = header.name
            guard !name.isEmpty, name.utf8.count <= 256, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .invalidArgument("header name '\(name)' is not an HTTP token", value: name)
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                throw .invalidArgument("header \(name) is managed by the library or carries credentials (use the credential callback)", value: name)
            }
            let value = header.value
            guard value.utf8.count <= Self.maxHeaderValue else {
                throw .invalidArgument("value of header \(name) is \(value.utf8.count) bytes; at most \(Self.maxHeaderValue) allowed", value: value)
            }
            if let scalar = Self.firstControl(in: value, allowing: ["\t"]) {
                throw .invalidArgument("value of header \(name) contains control character \(Self.hex(scalar))", value: value)
            }
        }
    }

    // MARK: Files

    /// Validates a batch for `addFiles`: each spec on its own, then duplicates within the batch.
    /// Returns the SHA-256 of each spec as 32 bytes, if it has one.
    func validate(_ specs: [FileSpec]) throws(QueueError) -> [[UInt8]?] {
        guard !specs.isEmpty else { throw .invalidArgument("no files given", value: "[]") }
        var seen: [[UInt8]: Int] = [:]  // by bytes, as the database compares paths
        var digests: [[UInt8]?] = []
        digests.reserveCapacity(specs.count)
        for (index, spec) in specs.enumerated() {
            do throws(QueueError) {
                try validateRemote(spec.remote)
                try validateLocal(spec.local)
                if let hint = spec.sizeHint, hint > UInt64(Int64.max) {
                    throw .invalidArgument("size hint \(hint) is larger than \(Int64.max)", value: "\(hint)")
                }
                digests.append(try spec.sha256.map(Self.digest))
            } catch {
                throw QueueError(error.code, "file \(index): \(error.message)", value: error.value, systemError: error.systemError)
            }
            if let first = seen.updateValue(index, forKey: Array(spec.local.utf8)) {
                throw .invalidArgument("files \(first) and \(index) have the same local path \(spec.local)", value: spec.local)
            }
        }
        return digests
    }

    func validateRemote(_ remote: String) throws(QueueError) {
        guard !remote.isEmpty else { throw .invalidArgument("remote name is empty", value: remote) }
        guard remote.unicodeScalars.count <= Self.maxRemoteLength else {
            throw .invalidArgument("remote name is \(remote.unicodeScalars.count) characters; at most \(Self.maxRemoteLength) allowed", value: remote)
        }
        if let scalar = remote.unicodeScalars.first(where: { $0.properties.generalCategory == .control || $0 == " " }) {
            throw .invalidArgument("remote name contains \(Self.hex(scalar)); escape it", value: remote)
        }
        if remote.hasPrefix("/") {
            guard configuration.allowedSchemes.contains("file") else {
                throw .invalidArgument("local copies (scheme file) are not allowed", value: remote)
            }
            return try validatePathShape(remote, role: "remote path")
        }
        guard let colon = remote.firstIndex(of: ":"), Self.isScheme(remote[..<colon]) else {
            throw .invalidArgument("remote name \(remote) is relative: give a URL with a scheme or an absolute path", value: remote)
        }
        let scheme = remote[..<colon].lowercased()
        guard configuration.allowedSchemes.contains(scheme) else {
            let allowed = configuration.allowedSchemes.sorted().joined(separator: ", ")
            throw .invalidArgument("scheme \(scheme) is not allowed (allowed: \(allowed))", value: remote)
        }
        guard let components = URLComponents(string: remote) else {
            throw .invalidArgument("remote name \(remote) is not a valid URL", value: remote)
        }
        guard components.user == nil, components.password == nil else {
            throw .invalidArgument("remote URL carries credentials; provide them through the credential callback", value: remote)
        }
        switch scheme {
        case "http", "https":
            guard let host = components.host, !host.isEmpty else {
                throw .invalidArgument("remote URL \(remote) has no host", value: remote)
            }
        case "file":
            guard (components.host ?? "").isEmpty || components.host == "localhost", components.path.hasPrefix("/") else {
                throw .invalidArgument("file URL \(remote) must name an absolute local path", value: remote)
            }
            try validatePathShape(components.path, role: "file URL path")
        default:
            break
        }
    }

    func validateLocal(_ local: String) throws(QueueError) {
        try validatePathShape(local, role: "local path")
        let name = local.split(separator: "/").last.map(String.init) ?? ""
        guard name.utf8.count <= Self.maxFinalNameBytes else {
            throw .invalidArgument("file name \(name) is \(name.utf8.count) bytes; at most \(Self.maxFinalNameBytes) allowed (room for the temp file's name)", value: local)
        }
        guard !name.hasSuffix(Self.tempSuffix) else {
            throw .invalidArgument("file name \(name) ends in \(Self.tempSuffix), which the library keeps for its temp files", value: local)
        }
        switch try fileSystem.kind(of: local) {
        case .symbolicLink: throw .invalidArgument("local path \(local) is a symbolic link", value: local)
        case .directory: throw .invalidArgument("local path \(local) is a directory", value: local)
        case .other: throw .invalidArgument("local path \(local) is not a regular file", value: local)
        case .regular, nil: break
        }
        let parent = local.parentDirectory
        guard let resolvedParent = try fileSystem.resolve(parent), try fileSystem.kind(of: resolvedParent) == .directory else {
            throw .accessDenied("directory \(parent) does not exist", value: local)
        }
        if !configuration.allowedRoots.isEmpty {
            // Compared after resolving symbolic links, so a link inside a root cannot lead outside it.
            var inside = false
            for root in configuration.allowedRoots {
                guard let resolvedRoot = try fileSystem.resolve(root) else { continue }
                inside = inside || resolvedParent == resolvedRoot || resolvedParent.hasPrefix(resolvedRoot == "/" ? "/" : resolvedRoot + "/")
            }
            guard inside else {
                throw .accessDenied("local path \(local) (directory \(resolvedParent)) is outside the allowed roots \(configuration.allowedRoots.joined(separator: ", "))", value: local)
            }
        }
        guard resolvedParent == parent else {
            throw .invalidArgument("directory of local path \(local) passes through a symbolic link (it resolves to \(resolvedParent)); "
                                   + "give the resolved path: no link is followed when the file is written", value: local)
        }
        guard fileSystem.isWritableDirectory(parent) else {
            throw .accessDenied("directory \(parent) is not writable", value: local)
        }
    }

    /// An absolute, normalised path: no empty, `.` or `..` components, no control characters.
    private func validatePathShape(_ path: String, role: String) throws(QueueError) {
        guard path.hasPrefix("/") else { throw .invalidArgument("\(role) \(path) is not absolute", value: path) }
        guard path.utf8.count <= Self.maxPathBytes else {
            throw .invalidArgument("\(role) is \(path.utf8.count) bytes; at most \(Self.maxPathBytes) allowed", value: path)
        }
        if let scalar = Self.firstControl(in: path, allowing: []) {
            throw .invalidArgument("\(role) contains control character \(Self.hex(scalar))", value: path)
        }
        guard path.count > 1, !path.hasSuffix("/") else {
            throw .invalidArgument("\(role) \(path) names a directory, not a file", value: path)
        }
        for component in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." || component == ".." {
                throw .invalidArgument("\(role) \(path) is not normalised (empty, '.' or '..' component)", value: path)
            }
            if component.utf8.count > Self.maxNameBytes {
                throw .invalidArgument("\(role) has a component of \(component.utf8.count) bytes; at most \(Self.maxNameBytes) allowed", value: path)
            }
        }
    }

    // MARK: Helpers

    static func digest(_ hex: String) throws(QueueError) -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else {
            throw .invalidArgument("SHA-256 must be 64 hex digits, got \(digits.count) characters", value: hex)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for pair in stride(from: 0, to: 64, by: 2) {
            guard let high = hexValue(digits[pair]), let low = hexValue(digits[pair + 1]) else {
                throw .invalidArgument("SHA-256 \(hex) contains a character that is not a hex digit", value: hex)
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func firstControl(in text: String, allowing allowed: Set<Unicode.Scalar>) -> Unicode.Scalar? {
        text.unicodeScalars.first { $0.properties.generalCategory == .control && !allowed.contains($0) }
    }

    private static func hex(_ scalar: Unicode.Scalar) -> String {
        "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
    }

    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hex, two digits a byte.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
