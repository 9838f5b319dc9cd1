"""The chip of an ICAO eMRTD (UT card, passport): open it, read it, check its signature. Pure.

Everything here works over bytes: `session` talks to the chip through a `transmit` function
the caller supplies (a PC/SC reader in `drivers.pcsc`, an emulated card in the tests), so
nothing here opens a device, a file or a connection.

    access  BAC: keys from the zone, mutual authentication, secure messaging (3DES, retail MAC)
    tlv     bounded BER-TLV and a DER shape check run before any ASN.1 library sees the bytes
    lds     EF.COM and DG1 (the zone as the chip holds it)
    session select the application, open it, read EF.COM, EF.SOD and DG1 (never DG2/DG3)
    trust   the region's trust store: CSCA certificates, CSCA master lists, revocation lists
    passive passive authentication: data-group hashes, the SOD signature, the chain to a CSCA
"""
