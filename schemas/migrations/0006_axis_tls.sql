-- HTTPS to the axis (issue #7): extra trusted CA certificates (PEM) for the agency's adapter,
-- kept inside the encrypted database beside the HMAC secret. NULL: the OS store only.
ALTER TABLE axis_config ADD COLUMN tls_ca_pem TEXT;
