#!/usr/bin/env python3
"""The tests' hands on a real SQS-protocol server (moto's, on loopback): make a queue, send
message bodies, and say what is on it.

    sqs.py ENDPOINT create NAME                 prints the queue URL
    sqs.py ENDPOINT send URL FILE               sends each line of FILE (JSON strings) as a body
    sqs.py ENDPOINT count URL                   prints {"visible": N, "hidden": N}
    sqs.py ENDPOINT bodies URL                  waits for every message to be visible again,
                                                prints their bodies as a JSON list (leaves them)
"""

import json
import sys
import time

import boto3

endpoint, command = sys.argv[1], sys.argv[2]
sqs = boto3.client(
    "sqs",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)


def counts(url):
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "hidden": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }


if command == "create":
    print(sqs.create_queue(QueueName=sys.argv[3])["QueueUrl"])
elif command == "send":
    url = sys.argv[3]
    with open(sys.argv[4]) as lines:
        for line in lines:
            if line.strip():
                sqs.send_message(QueueUrl=url, MessageBody=json.loads(line))
elif command == "count":
    print(json.dumps(counts(sys.argv[3])))
elif command == "bodies":
    url = sys.argv[3]
    deadline = time.time() + 120
    while counts(url)["hidden"] and time.time() < deadline:
        time.sleep(0.2)
    bodies = []
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1)
    bodies = [m["Body"] for m in got.get("Messages", [])]
    print(json.dumps(sorted(bodies)))
else:
    sys.exit(f"unknown command {command}")
