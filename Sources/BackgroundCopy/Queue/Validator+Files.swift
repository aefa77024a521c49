import Foundation

extension Validator {
    /// Validates a batch for `addFiles`: each spec on its own, then duplicates within the batch.
    /// Returns the SHA-256 of each spec as 32 bytes, if it has one.
    ///
    /// Files are usually added many to a directory: a directory is checked once per batch, and
    /// listed once when many of the batch's files go there (``BatchDirectories``).
    func validate(_ specs: [FileSpec]) throws(QueueError) -> [[UInt8]?] {
        guard !specs.isEmpty else { throw .invalidArgument("no files given", value: "[]") }
        var seen: [PathBytes: Int] = [:]  // by bytes, as the database compares paths
        seen.reserveCapacity(specs.count)
        let parents = specs.map(\.local.parentDirectory)
        var directories = BatchDirectories(parents: parents)
        var digests: [[UInt8]?] = []
        digests.reserveCapacity(specs.count)
        for (index, spec) in specs.enumerated() {
            do throws(QueueError) {
                try validateRemote(spec.remote)
                try validateLocal(spec.local, in: parents[index], directories: &directories)
                if let hint = spec.sizeHint, hint > UInt64(Int64.max) {
                    throw .invalidArgument("size hint \(hint) is larger than \(Int64.max)", value: "\(hint)")
                }
                digests.append(try spec.sha256.map(Self.digest))
            } catch {
                throw QueueError(error.code, "file \(index): \(error.message)", value: error.value, systemError: error.systemError)
            }
            if let first = seen.updateValue(index, forKey: PathBytes(spec.local)) {
                throw .invalidArgument("files \(first) and \(index) have the same local path \(spec.local)", value: spec.local)
            }
        }
        return digests
    }

    func validateRemote(_ remote: String) throws(QueueError) {
        // Nearly every name is a plain http(s) URL of an allowed scheme: none of the checks below
        // can fail for one (it holds no space, no control character, no credentials).
        if remote.utf8.count <= Self.maxRemoteLength, let scheme = Self.plainHTTPScheme(remote),
            configuration.allowedSchemes.contains(scheme)
        {
            return
        }
        guard !remote.isEmpty else { throw .invalidArgument("remote name is empty", value: remote) }
        // UTF-8 never has fewer bytes than characters: a short name needs no count of its characters.
        guard remote.utf8.count <= Self.maxRemoteLength || remote.unicodeScalars.count <= Self.maxRemoteLength else {
            throw .invalidArgument("remote name is \(remote.unicodeScalars.count) characters; at most \(Self.maxRemoteLength) allowed", value: remote)
        }
        if remote.utf8.contains(UInt8(ascii: " ")) || Self.mayHoldControl(remote),
            let scalar = remote.unicodeScalars.first(where: { $0.properties.generalCategory == .control || $0 == " " })
        {
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

    /// Checks a local path whose directory is `parent`, and the directory unless `directories`
    /// found it fit already.
    private func validateLocal(_ local: String, in parent: String, directories: inout BatchDirectories) throws(QueueError) {
        try validatePathShape(local, role: "local path")
        let name = local.lastComponent
        guard name.utf8.count <= Self.maxFinalNameBytes else {
            throw .invalidArgument(
                "file name \(name) is \(name.utf8.count) bytes; at most \(Self.maxFinalNameBytes) allowed (room for the temp file's name)", value: local)
        }
        guard !name.utf8.reversed().starts(with: Self.tempSuffix.utf8.reversed()) else {
            throw .invalidArgument("file name \(name) ends in \(Self.tempSuffix), which the library keeps for its temp files", value: local)
        }
        switch try directories.kind(of: local, named: name, in: parent, fileSystem: fileSystem) {
        case .symbolicLink: throw .invalidArgument("local path \(local) is a symbolic link", value: local)
        case .directory: throw .invalidArgument("local path \(local) is a directory", value: local)
        case .other: throw .invalidArgument("local path \(local) is not a regular file", value: local)
        case .regular, nil: break
        }
        guard !directories.writable.contains(parent) else { return }
        try validateDirectory(parent, of: local)
        directories.writable.insert(parent)
    }

    /// The directory a file is to be written in: it exists, lies inside the allowed roots, is
    /// reached through no symbolic link and may be written. Errors name the file's path `local`.
    private func validateDirectory(_ parent: String, of local: String) throws(QueueError) {
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
                throw .accessDenied(
                    "local path \(local) (directory \(resolvedParent)) is outside the allowed roots \(configuration.allowedRoots.joined(separator: ", "))",
                    value: local)
            }
        }
        guard resolvedParent == parent else {
            throw .invalidArgument(
                "directory of local path \(local) passes through a symbolic link (it resolves to \(resolvedParent)); "
                    + "give the resolved path: no link is followed when the file is written", value: local)
        }
        guard fileSystem.isWritableDirectory(parent) else {
            throw .accessDenied("directory \(parent) is not writable", value: local)
        }
    }

    /// An absolute, normalised path: no empty, `.` or `..` components, no control characters.
    private func validatePathShape(_ path: String, role: String) throws(QueueError) {
        if path.utf8.withContiguousStorageIfAvailable(Self.isPlainPath) == true { return }
        guard path.hasPrefix("/") else { throw .invalidArgument("\(role) \(path) is not absolute", value: path) }
        let bytes = path.utf8.count
        guard bytes <= Self.maxPathBytes else {
            throw .invalidArgument("\(role) is \(bytes) bytes; at most \(Self.maxPathBytes) allowed", value: path)
        }
        if let scalar = Self.firstControl(in: path, allowing: []) {
            throw .invalidArgument("\(role) contains control character \(Self.hex(scalar))", value: path)
        }
        guard bytes > 1, !path.hasSuffix("/") else {
            throw .invalidArgument("\(role) \(path) names a directory, not a file", value: path)
        }
        // One pass over the bytes after the leading `/`, component by component.
        var length = 0
        var onlyDots = true
        func endComponent() throws(QueueError) {
            if length == 0 || (onlyDots && length <= 2) {
                throw .invalidArgument("\(role) \(path) is not normalised (empty, '.' or '..' component)", value: path)
            }
            if length > Self.maxNameBytes {
                throw .invalidArgument("\(role) has a component of \(length) bytes; at most \(Self.maxNameBytes) allowed", value: path)
            }
            length = 0
            onlyDots = true
        }
        for byte in path.utf8.dropFirst() {
            if byte == UInt8(ascii: "/") {
                try endComponent()
            } else {
                length += 1
                onlyDots = onlyDots && byte == UInt8(ascii: ".")
            }
        }
        try endComponent()
    }
}

extension Validator {
    /// Whether `path` certainly passes ``validatePathShape(_:role:)``, read in one pass over its
    /// bytes: absolute, at most ``maxPathBytes``, components of 1 to ``maxNameBytes`` bytes that are
    /// not `.` or `..`, and no byte that may start a control character. `false` means only "not
    /// certainly": the full checks then decide and name the fault.
    static func isPlainPath(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count > 1, bytes.count <= maxPathBytes, bytes[0] == UInt8(ascii: "/") else { return false }
        var length = 0
        var onlyDots = true
        for byte in bytes[1...] {
            if byte == UInt8(ascii: "/") {
                guard length > 0, length <= maxNameBytes, !(onlyDots && length <= 2) else { return false }
                length = 0
                onlyDots = true
            } else {
                guard byte >= 0x20, byte != 0x7F, byte != 0xC2 else { return false }
                length += 1
                onlyDots = onlyDots && byte == UInt8(ascii: ".")
            }
        }
        return length > 0 && length <= maxNameBytes && !(onlyDots && length <= 2)
    }
}

/// What one `addFiles` batch has learnt of its directories.
private struct BatchDirectories {
    /// A directory holding this many of the batch's files is listed once rather than asked about
    /// each file, if it is small: at most ``bytesPerFile`` of directory per file of the batch.
    static let filesToList = 8
    static let bytesPerFile = 512

    private let fileCounts: [String: Int]
    private var listings: [String: [PathBytes: FileKind]?] = [:]
    /// Directories found to exist, inside the allowed roots, reached through no link, writable.
    var writable: Set<String> = []

    init(parents: [String]) {
        fileCounts = parents.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// What is at `local`, the entry `name` of `parent`: from the directory's listing when the
    /// batch has many files there, else from the file system.
    mutating func kind(of local: String, named name: String, in parent: String, fileSystem: any FileSystem) throws(QueueError) -> FileKind? {
        let count = fileCounts[parent, default: 0]
        guard count >= Self.filesToList else { return try fileSystem.kind(of: local) }
        let listing: [PathBytes: FileKind]?
        if let listed = listings[parent] {
            listing = listed
        } else {
            listing = try fileSystem.entries(ofDirectory: parent, ifAtMost: count * Self.bytesPerFile)
                .map { Dictionary($0.map { (PathBytes($0.name), $0.kind) }, uniquingKeysWith: { first, _ in first }) }
            listings.updateValue(listing, forKey: parent)
        }
        guard let listing else { return try fileSystem.kind(of: local) }
        return listing[PathBytes(name)]
    }
}

/// A path or name as the kernel and the database see it: its bytes. Hashed as one block, where
/// `[UInt8]` feeds the hasher a byte at a time.
private struct PathBytes: Hashable {
    let bytes: [UInt8]

    init(_ path: String) { bytes = Array(path.utf8) }
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
