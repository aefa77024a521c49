/// A certificate chain and its private key, PEM-encoded, for a ``LoopbackServer`` that speaks HTTPS.
public struct TLSIdentity: Sendable, Hashable {
    /// The server's certificate, then any intermediates, as PEM blocks.
    public var certificateChainPEM: String
    /// The certificate's private key as a PEM block.
    public var privateKeyPEM: String

    /// An identity from PEM text.
    public init(certificateChainPEM: String, privateKeyPEM: String) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
    }
}
