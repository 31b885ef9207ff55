// FoundationEssentials carries everything Contracts needs (JSON, UUID, Date) without ICU,
// which keeps idle services small. Other platforms get the full Foundation.
#if canImport(FoundationEssentials)
@_exported import FoundationEssentials
#else
@_exported import Foundation
#endif
