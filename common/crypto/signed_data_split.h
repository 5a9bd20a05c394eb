// SplitSignedData: separates the certificates of a DER CMS SignedData (RFC 5652 §5.1) from the
// rest, without decoding them.
//
// Why: OpenSSL 3.0 decodes the public key of every embedded certificate through OSSL_DECODER when
// d2i_CMS_bio reads a SignedData, and on the check-in path (one `Mdm-Signature` per request, the
// same device certificate every time) that decode cost more than the signature check, the plist
// parse, the store write and the forward together. Splitting the bytes lets the caller recognise a
// certificate it has already decoded and verified (by the SHA-256 of its DER), and hand OpenSSL a
// SignedData without it plus the remembered X509 (CMS_verify's |certs|).
//
// Only the TLV framing is walked (OpenSSL's ASN1_get_object / ASN1_put_object); nothing inside a
// certificate or signer info is interpreted. Anything unusual — BER indefinite lengths, a tag out
// of place, trailing bytes — returns nullopt and the caller takes the ordinary full decode.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdmgw::crypto {

struct SplitSignedDataResult {
  // The same ContentInfo with SignedData's `certificates [0]` field removed (lengths re-encoded).
  // Equal to the input when there was no certificates field.
  std::string without_certificates;
  // Each certificate's DER, in order, as views into the input.
  std::vector<std::string_view> certificates;
};

std::optional<SplitSignedDataResult> SplitSignedData(std::string_view der);

}  // namespace mdmgw::crypto
