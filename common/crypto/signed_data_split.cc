#include "common/crypto/signed_data_split.h"

#include <openssl/asn1.h>

#include <climits>

namespace mdmgw::crypto {
namespace {

struct Tlv {
  int tag = 0;
  int cls = 0;
  bool constructed = false;
  std::string_view whole;    // header + content
  std::string_view content;  // content only
};

// Reads one definite-length TLV from the front of |in| and advances past it.
bool ReadTlv(std::string_view* in, Tlv* out) {
  if (in->empty() || in->size() > static_cast<size_t>(LONG_MAX)) return false;
  const auto* start = reinterpret_cast<const unsigned char*>(in->data());
  const unsigned char* p = start;
  long len = 0;
  int tag = 0;
  int cls = 0;
  int flags = ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(in->size()));
  // 0x80: malformed or longer than the input; 0x01: BER indefinite length (not DER).
  if ((flags & 0x80) != 0 || (flags & 0x01) != 0 || len < 0) return false;
  size_t header = static_cast<size_t>(p - start);
  if (header + static_cast<size_t>(len) > in->size()) return false;
  out->tag = tag;
  out->cls = cls;
  out->constructed = (flags & V_ASN1_CONSTRUCTED) != 0;
  out->whole = in->substr(0, header + static_cast<size_t>(len));
  out->content = in->substr(header, static_cast<size_t>(len));
  in->remove_prefix(out->whole.size());
  return true;
}

bool Is(const Tlv& t, int cls, int tag, bool constructed) {
  return t.cls == cls && t.tag == tag && t.constructed == constructed;
}

void AppendHeader(std::string* out, int cls, int tag, size_t content_len) {
  int len = static_cast<int>(content_len);
  int total = ASN1_object_size(1, len, tag);
  int header = total - len;
  size_t at = out->size();
  out->resize(at + static_cast<size_t>(header));
  auto* p = reinterpret_cast<unsigned char*>(out->data() + at);
  ASN1_put_object(&p, 1, len, tag, cls);
}

}  // namespace

std::optional<SplitSignedDataResult> SplitSignedData(std::string_view der) {
  if (der.size() > static_cast<size_t>(INT_MAX / 2)) return std::nullopt;
  std::string_view rest = der;
  Tlv content_info;
  if (!ReadTlv(&rest, &content_info) || !rest.empty() ||
      !Is(content_info, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true)) {
    return std::nullopt;
  }
  std::string_view ci = content_info.content;
  Tlv oid;
  Tlv explicit0;
  if (!ReadTlv(&ci, &oid) || !Is(oid, V_ASN1_UNIVERSAL, V_ASN1_OBJECT, false) ||
      !ReadTlv(&ci, &explicit0) || !Is(explicit0, V_ASN1_CONTEXT_SPECIFIC, 0, true) ||
      !ci.empty()) {
    return std::nullopt;
  }
  std::string_view e0 = explicit0.content;
  Tlv signed_data;
  if (!ReadTlv(&e0, &signed_data) || !e0.empty() ||
      !Is(signed_data, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true)) {
    return std::nullopt;
  }

  // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE,
  //   certificates [0] IMPLICIT OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos SET }
  SplitSignedDataResult result;
  std::string kept;  // SignedData's content without the certificates field
  kept.reserve(signed_data.content.size());
  std::string_view sd = signed_data.content;
  // 0 version, 1 digestAlgorithms, 2 encapContentInfo, 3 certificates/crls/signerInfos may come,
  // 4 crls/signerInfos may come (after certificates), 5 signerInfos must come, 6 done.
  int stage = 0;
  Tlv field;
  while (!sd.empty()) {
    if (!ReadTlv(&sd, &field)) return std::nullopt;
    if (stage < 3) {
      static const int kTags[3] = {V_ASN1_INTEGER, V_ASN1_SET, V_ASN1_SEQUENCE};
      if (!Is(field, V_ASN1_UNIVERSAL, kTags[stage], stage != 0)) return std::nullopt;
      kept.append(field.whole);
      ++stage;
    } else if (stage == 3 && Is(field, V_ASN1_CONTEXT_SPECIFIC, 0, true)) {
      std::string_view certs = field.content;
      Tlv cert;
      while (!certs.empty()) {
        // Only X.509 certificates (a SEQUENCE); the other CertificateChoices take the full path.
        if (!ReadTlv(&certs, &cert) || !Is(cert, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true)) {
          return std::nullopt;
        }
        result.certificates.push_back(cert.whole);
      }
      stage = 4;
    } else if (stage <= 4 && Is(field, V_ASN1_CONTEXT_SPECIFIC, 1, true)) {
      kept.append(field.whole);
      stage = 5;
    } else if (stage >= 3 && stage <= 5 && Is(field, V_ASN1_UNIVERSAL, V_ASN1_SET, true)) {
      kept.append(field.whole);
      stage = 6;
    } else {
      return std::nullopt;  // out of order, unknown, or bytes after signerInfos
    }
  }
  if (stage != 6) return std::nullopt;

  if (result.certificates.empty() && kept.size() == signed_data.content.size()) {
    result.without_certificates = std::string(der);
    return result;
  }
  std::string sd_out;
  AppendHeader(&sd_out, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, kept.size());
  sd_out.append(kept);
  std::string e0_out;
  AppendHeader(&e0_out, V_ASN1_CONTEXT_SPECIFIC, 0, sd_out.size());
  e0_out.append(sd_out);
  std::string& out = result.without_certificates;
  AppendHeader(&out, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, oid.whole.size() + e0_out.size());
  out.append(oid.whole);
  out.append(e0_out);
  return result;
}

}  // namespace mdmgw::crypto
