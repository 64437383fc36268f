"""DynamoDB access: keys, item mapping and transactions. The only package
that speaks DynamoDB; everything above it speaks orders and products."""
