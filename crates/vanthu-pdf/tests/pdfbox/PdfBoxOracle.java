// A second, independent signer and CMS checker for the interop tests: Apache PDFBox (Debian's
// libpdfbox2-java) with BouncyCastle (libbcpkix-java), as Java-based signing services use them.
// Compiled by the test that runs it (crates/vanthu-pdf/tests/pdfbox.rs); not part of vanthu.
//
//   sign IN OUT P12 PASSWORD FIELD (adbe | etsi | etsi-ess) [P]
//       Adds a signature as PDFBox's own examples do (an incremental update, BouncyCastle's
//       detached CMS over the ByteRange): adbe.pkcs7.detached, or ETSI.CAdES.detached without
//       (etsi) or with (etsi-ess) the ESS signing-certificate-v2 attribute and no signing-time;
//       with P, a certification signature with DocMDP permission P (as PDFBox's examples set it).
//   verify FILE
//       For each signature, as PDFBox finds them: the CMS checked by BouncyCastle against the
//       bytes the ByteRange covers. Prints "FIELD:OK:whole" (covers the whole file),
//       "FIELD:OK:partial" or "FIELD:BAD:reason", one per line.

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collection;

import org.apache.pdfbox.cos.COSArray;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureInterface;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureOptions;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.ess.ESSCertIDv2;
import org.bouncycastle.asn1.ess.SigningCertificateV2;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuerSerial;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

public class PdfBoxOracle implements SignatureInterface {
    private final PrivateKey key;
    private final Certificate[] chain;
    private final String mode;

    PdfBoxOracle(String p12, char[] password, String mode) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(p12)) {
            ks.load(in, password);
        }
        String alias = ks.aliases().nextElement();
        key = (PrivateKey) ks.getKey(alias, password);
        chain = ks.getCertificateChain(alias);
        this.mode = mode;
    }

    @Override
    public byte[] sign(InputStream content) throws IOException {
        try {
            X509Certificate cert = (X509Certificate) chain[0];
            String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            JcaSignerInfoGeneratorBuilder sib =
                    new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build());
            if (mode.equals("etsi-ess")) {
                X509CertificateHolder h = new JcaX509CertificateHolder(cert);
                byte[] hash = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
                ESSCertIDv2 id = new ESSCertIDv2(
                        new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256), hash,
                        new IssuerSerial(new GeneralNames(new GeneralName(h.getIssuer())),
                                h.getSerialNumber()));
                ASN1EncodableVector v = new ASN1EncodableVector();
                v.add(new Attribute(PKCSObjectIdentifiers.id_aa_signingCertificateV2,
                        new DERSet(new SigningCertificateV2(new ESSCertIDv2[] {id}))));
                DefaultSignedAttributeTableGenerator gen =
                        new DefaultSignedAttributeTableGenerator(new AttributeTable(v));
                // PAdES: the time is the dictionary's /M, not a signing-time attribute.
                sib.setSignedAttributeGenerator(
                        params -> gen.getAttributes(params).remove(CMSAttributes.signingTime));
            }
            CMSSignedDataGenerator g = new CMSSignedDataGenerator();
            g.addSignerInfoGenerator(sib.build(new JcaContentSignerBuilder(alg).build(key), cert));
            g.addCertificates(new JcaCertStore(Arrays.asList(chain)));
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            content.transferTo(bytes);
            return g.generate(new CMSProcessableByteArray(bytes.toByteArray()), false).getEncoded();
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    static void sign(String[] a) throws Exception {
        PdfBoxOracle signer = new PdfBoxOracle(a[3], a[4].toCharArray(), a[6]);
        try (PDDocument doc = PDDocument.load(new File(a[1]));
                FileOutputStream out = new FileOutputStream(a[2])) {
            PDSignature sig = new PDSignature();
            sig.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
            sig.setSubFilter(a[6].equals("adbe") ? PDSignature.SUBFILTER_ADBE_PKCS7_DETACHED
                    : PDSignature.SUBFILTER_ETSI_CADES_DETACHED);
            sig.setName("PDFBox");
            sig.setReason("Phê duyệt");
            sig.setLocation("Hà Nội");
            sig.setSignDate(Calendar.getInstance());
            SignatureOptions options = new SignatureOptions();
            options.setPreferredSignatureSize(20000);
            if (a.length > 7) {
                certify(doc, sig, Integer.parseInt(a[7]));
            }
            doc.addSignature(sig, signer, options);
            // The new field gets its name from PDFBox; rename it so the test can find it.
            doc.getSignatureFields().stream()
                    .filter(f -> f.getSignature() != null
                            && f.getSignature().getCOSObject() == sig.getCOSObject())
                    .forEach(f -> f.setPartialName(a[5]));
            doc.saveIncremental(out);
            options.close();
        }
    }

    /** Makes `sig` a certification signature with DocMDP permission `p`. */
    static void certify(PDDocument doc, PDSignature sig, int p) {
        COSDictionary params = new COSDictionary();
        params.setItem(COSName.TYPE, COSName.getPDFName("TransformParams"));
        params.setInt(COSName.P, p);
        params.setName(COSName.V, "1.2");
        COSDictionary ref = new COSDictionary();
        ref.setItem(COSName.TYPE, COSName.getPDFName("SigRef"));
        ref.setItem(COSName.getPDFName("TransformMethod"), COSName.getPDFName("DocMDP"));
        ref.setItem(COSName.getPDFName("DigestMethod"), COSName.getPDFName("SHA256"));
        ref.setItem(COSName.getPDFName("TransformParams"), params);
        COSArray refs = new COSArray();
        refs.add(ref);
        sig.getCOSObject().setItem(COSName.getPDFName("Reference"), refs);
        COSDictionary perms = new COSDictionary();
        perms.setItem(COSName.getPDFName("DocMDP"), sig);
        doc.getDocumentCatalog().getCOSObject().setItem(COSName.PERMS, perms);
        doc.getDocumentCatalog().getCOSObject().setNeedToBeUpdated(true);
    }

    static void verify(String[] a) throws Exception {
        byte[] file = Files.readAllBytes(new File(a[1]).toPath());
        try (PDDocument doc = PDDocument.load(file)) {
            for (var field : doc.getSignatureFields()) {
                PDSignature sig = field.getSignature();
                if (sig == null) {
                    continue;
                }
                String name = field.getFullyQualifiedName();
                String why = check(sig, file);
                if (why != null) {
                    System.out.println(name + ":BAD:" + why);
                    continue;
                }
                int[] br = sig.getByteRange();
                long end = (long) br[2] + br[3];
                System.out.println(name + ":OK:" + (end == file.length ? "whole" : "partial"));
            }
        }
    }

    /** Why the signature does not verify, or null. */
    static String check(PDSignature sig, byte[] file) {
        try {
            byte[] signed = sig.getSignedContent(file);
            byte[] contents = sig.getContents(file);
            CMSSignedData cms = new CMSSignedData(new CMSProcessableByteArray(signed), contents);
            Collection<SignerInformation> signers = cms.getSignerInfos().getSigners();
            if (signers.size() != 1) {
                return signers.size() + " signer infos";
            }
            SignerInformation si = signers.iterator().next();
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> certs = cms.getCertificates().getMatches(si.getSID());
            if (certs.isEmpty()) {
                return "signer certificate not in the CMS";
            }
            X509CertificateHolder cert = certs.iterator().next();
            boolean ok = si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert));
            return ok ? null : "signature value";
        } catch (Exception e) {
            return e.toString().replace('\n', ' ');
        }
    }

    public static void main(String[] a) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        switch (a[0]) {
            case "sign" -> sign(a);
            case "verify" -> verify(a);
            default -> throw new IllegalArgumentException(a[0]);
        }
    }
}
