"""Public keys from certificates, also EC keys given with explicit domain parameters.

Many states' CSCA and document signer certificates (Germany's among them, and so the BSI
master list) spell their Brainpool curve out as explicit parameters instead of naming it.
`cryptography` loads explicit parameters only for the NIST curves, so an explicit curve equal,
parameter for parameter, to a named Brainpool curve (RFC 5639) is taken as that named curve;
anything else stays unsupported. Certificate signatures are then checked with that key.
"""

from __future__ import annotations

from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

# RFC 5639 curves as (p, a, b, uncompressed base point, order).
BRAINPOOL: dict[str, tuple[int, int, int, str, int]] = {
    "brainpoolP256r1": (
        int("A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377", 16),
        int("7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9", 16),
        int("26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6", 16),
        ("048BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE32"
         "62547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F0469"
         "97"),
        int("A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7", 16),
    ),
    "brainpoolP384r1": (
        int("8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123"
            "ACD3A729901D1A71874700133107EC53", 16),
        int("7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F"
            "8AA5814A503AD4EB04A8C7DD22CE2826", 16),
        int("4A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D57"
            "CB4390295DBC9943AB78696FA504C11", 16),
        ("041D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10"
         "E8E826E03436D646AAEF87B2E247D4AF1E8ABE1D7520F9C2A45CB1EB8E95CFD5"
         "5262B70B29FEEC5864E19C054FF99129280E4646217791811142820341263C53"
         "15"),
        int("8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7"
            "CF3AB6AF6B7FC3103B883202E9046565", 16),
    ),
    "brainpoolP512r1": (
        int("AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330871"
            "7D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3", 16),
        int("7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC"
            "2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA", 16),
        int("3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A7"
            "2BF2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723", 16),
        ("0481AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D009"
         "8EFF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F8"
         "227DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F81"
         "11B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD808"
         "92"),
        int("AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870"
            "553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069", 16),
    ),
}
NAMED: dict[str, ec.EllipticCurve] = {
    "brainpoolP256r1": ec.BrainpoolP256R1(),
    "brainpoolP384r1": ec.BrainpoolP384R1(),
    "brainpoolP512r1": ec.BrainpoolP512R1(),
}


def public_key(cert: x509.Certificate) -> CertificatePublicKeyTypes:
    """The certificate's public key; explicit Brainpool parameters become the named curve."""
    try:
        return cert.public_key()
    except (UnsupportedAlgorithm, ValueError) as first:
        spki = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))[
            "tbs_certificate"]["subject_public_key_info"]
        params = spki["algorithm"]["parameters"]
        if spki["algorithm"]["algorithm"].native != "ec" or params.name != "specified":
            raise UnsupportedAlgorithm(str(first)) from None
        spec = params.chosen
        if spec["field_id"]["field_type"].native != "prime_field":
            raise UnsupportedAlgorithm("EC keys over binary fields are not supported") from None
        found = (
            spec["field_id"]["parameters"].native,
            int.from_bytes(spec["curve"]["a"].native, "big"),
            int.from_bytes(spec["curve"]["b"].native, "big"),
            spec["base"].native.hex().upper(),
            spec["order"].native,
        )
        for name, known in BRAINPOOL.items():
            if found == known:
                point = spki["public_key"].native
                return ec.EllipticCurvePublicKey.from_encoded_point(NAMED[name], point)
        raise UnsupportedAlgorithm("EC key on a curve that is not a standard one") from None


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """`issuer` named and signed `cert` (the check `verify_directly_issued_by` makes, with
    keys it cannot load as well)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        key = public_key(issuer)
        params = cert.signature_algorithm_parameters
        digest = cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey):
            if not isinstance(params, padding.PSS | padding.PKCS1v15) or digest is None:
                return False
            key.verify(cert.signature, cert.tbs_certificate_bytes, params, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
            key.verify(cert.signature, cert.tbs_certificate_bytes, params)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True
