/// What one path serves: its bytes (generated or given), and the version that
/// ``Fault/changeETag`` bumps, with the validators derived from them.
struct Content: Sendable {
    /// Where the bytes come from.
    enum Source: Sendable {
        case generated(size: Int, seed: UInt64)
        case bytes([UInt8])
    }

    let path: String
    let source: Source
    /// A number unique to this registration, so re-serving a path changes Last-Modified.
    let registration: Int
    /// FNV-1a of everything the content is made of, the base of the ETag.
    private let fingerprint: UInt64
    /// 0 when registered; one more for every request under ``Fault/changeETag``.
    var version = 0

    init(path: String, source: Source, registration: Int) {
        self.path = path
        self.source = source
        self.registration = registration
        var hash = FNV1a()
        hash.add(Array(path.utf8))
        switch source {
        case .generated(let size, let seed):
            hash.add([0x67])
            hash.add(UInt64(size))
            hash.add(seed)
        case .bytes(let bytes):
            hash.add([0x62])
            hash.add(bytes)
        }
        fingerprint = hash.value
    }

    /// The length of the body.
    var size: Int {
        switch source {
        case .generated(let size, _): size
        case .bytes(let bytes): bytes.count
        }
    }

    /// The strong entity tag of the current version.
    var etag: String {
        var hash = FNV1a(fingerprint)
        hash.add(UInt64(version))
        let hex = String(hash.value, radix: 16)
        return "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
    }

    /// The Last-Modified date of the current version: later for later registrations and versions.
    var lastModified: String {
        HTTPDate.format(secondsSince1970: 1_700_000_000 + registration * 100_000 + version)
    }

    /// Writes the current version's bytes from `offset` on into `destination`. Offsets past
    /// ``size`` give filler bytes (what ``Fault/longerThanContentLength(extra:)`` sends).
    func fill(_ destination: UnsafeMutableRawBufferPointer, from offset: Int) {
        switch source {
        case .generated(_, let seed):
            ContentGenerator.fill(destination, seed: ContentGenerator.seed(seed, version: version), from: offset)
        case .bytes(let bytes):
            let available = max(0, min(destination.count, bytes.count - offset))
            if available > 0 {
                bytes.withUnsafeBytes { source in
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + available]))
                }
            }
            if available < destination.count {
                UnsafeMutableRawBufferPointer(rebasing: destination[available...]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            if version > 0 {
                // Another version of given bytes: the same length, other bytes.
                let key = ContentGenerator.seed(0xB17E5, version: version)
                for index in 0..<destination.count {
                    destination[index] ^= ContentGenerator.byte(seed: key, offset: offset + index)
                }
            }
        }
    }

    /// The current version's bytes of `range`.
    func bytes(_ range: Range<Int>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer), from: range.lowerBound)
            initialized = range.count
        }
    }
}

/// 64-bit FNV-1a, for entity tags.
struct FNV1a {
    private(set) var value: UInt64

    init(_ start: UInt64 = 0xCBF2_9CE4_8422_2325) { value = start }

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
    }

    mutating func add(_ number: UInt64) {
        withUnsafeBytes(of: number.littleEndian) { add(Array($0)) }
    }
}
